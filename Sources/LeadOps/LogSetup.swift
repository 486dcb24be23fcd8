import Foundation
import Logging

/// swift-log output: human lines on a terminal, JSON lines otherwise (log shippers), on stderr.
public enum LogSetup {
    public static func bootstrap(level: String, format: String) {
        let lvl = Logger.Level(rawValue: level.lowercased()) ?? .info
        let json: Bool
        switch format {
        case "json": json = true
        case "text": json = false
        default: json = isatty(STDERR_FILENO) == 0
        }
        LoggingSystem.bootstrap { label in
            var h = LineLogHandler(label: label, json: json)
            h.logLevel = label == "librdkafka" ? max(lvl, .info) : lvl
            return h
        }
    }
}

/// One line per log record; metadata (partition, offset, …) included.
struct LineLogHandler: LogHandler {
    let label: String
    let json: Bool
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        var all = metadata
        if let extra { all.merge(extra) { $1 } }
        let ts = ISO8601DateFormatter().string(from: Date())
        var out: String
        if json {
            out = "{\"ts\":\(q(ts)),\"level\":\(q(level.rawValue)),\"logger\":\(q(label)),\"msg\":\(q(message.description))"
            for (k, v) in all.sorted(by: { $0.key < $1.key }) { out += ",\(q(k)):\(q(v.description))" }
            out += "}\n"
        } else {
            out = "\(ts) \(level.rawValue.uppercased()) \(label): \(message)"
            if !all.isEmpty { out += " " + all.sorted(by: { $0.key < $1.key }).map { "\($0.key)=\($0.value)" }.joined(separator: " ") }
            out += "\n"
        }
        FileHandle.standardError.write(Data(out.utf8))
    }

    private func q(_ s: String) -> String { HTTPServer.quote(s) }
}
