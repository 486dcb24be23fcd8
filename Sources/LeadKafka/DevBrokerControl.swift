import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The dev broker's fault-injection protocol: one command per line on a UNIX socket, one answer line each
/// (`ok` or `error: …`). Documented in docs/dev-broker.md; tests drive faults with `send`.
///
///     down BROKER | up BROKER | rtt BROKER MS | leader TOPIC PARTITION BROKER | coordinator GROUP BROKER
///     create TOPIC PARTITIONS | errors API COUNT CODE… | bootstrap | ping
public final class DevBrokerControl: @unchecked Sendable {
    private let cluster: MockCluster
    private let path: String
    private var fd: Int32 = -1

    public init(cluster: MockCluster, socketPath: String) {
        self.cluster = cluster
        self.path = socketPath
    }

    /// Binds the socket and serves connections on a dedicated thread.
    public func start() throws {
        unlink(path)
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw KafkaError(code: -1, message: "control socket: \(String(cString: strerror(errno)))") }
        var addr = try Self.address(path)
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard ok == 0, listen(fd, 16) == 0 else {
            throw KafkaError(code: -1, message: "control socket \(path): \(String(cString: strerror(errno)))")
        }
        let t = Thread { [self] in acceptLoop() }
        t.name = "dev-broker-control"
        t.start()
    }

    public func stop() {
        if fd >= 0 { close(fd); fd = -1 }
        unlink(path)
    }

    private func acceptLoop() {
        while fd >= 0 {
            let c = accept(fd, nil, nil)
            if c < 0 { if errno == EINTR { continue }; return }
            let t = Thread { [self] in serve(c) }
            t.start()
        }
    }

    private func serve(_ c: Int32) {
        defer { close(c) }
        var pending: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(c, &buf, buf.count)
            if n <= 0 { return }
            pending.append(contentsOf: buf[0..<n])
            while let nl = pending.firstIndex(of: 10) {
                let line = String(decoding: pending[..<nl], as: UTF8.self)
                pending.removeSubrange(...nl)
                let answer = Array((execute(line) + "\n").utf8)
                _ = answer.withUnsafeBytes { write(c, $0.baseAddress, $0.count) }
            }
        }
    }

    /// Runs one command line; returns the answer line.
    public func execute(_ line: String) -> String {
        let w = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let cmd = w.first else { return "error: empty command" }
        func int(_ i: Int) -> Int? { i < w.count ? Int(w[i]) : nil }
        do {
            switch (cmd, w.count) {
            case ("ping", 1): return "ok"
            case ("bootstrap", 1): return "ok \(cluster.bootstrapServers)"
            case ("down", 2): guard let b = int(1) else { break }; try cluster.setBrokerDown(Int32(b)); return "ok"
            case ("up", 2): guard let b = int(1) else { break }; try cluster.setBrokerUp(Int32(b)); return "ok"
            case ("rtt", 3):
                guard let b = int(1), let ms = int(2) else { break }
                try cluster.setRoundTripTime(broker: Int32(b), ms: ms); return "ok"
            case ("leader", 4):
                guard let p = int(2), let b = int(3) else { break }
                try cluster.setPartitionLeader(topic: w[1], partition: Int32(p), broker: Int32(b)); return "ok"
            case ("coordinator", 3):
                guard let b = int(2) else { break }
                try cluster.setGroupCoordinator(group: w[1], broker: Int32(b)); return "ok"
            case ("create", 3):
                guard let p = int(2), p > 0 else { break }
                try cluster.createTopic(w[1], partitions: p); return "ok"
            case ("errors", 4...):
                guard let api = Int16(w[1]) ?? MockCluster.apiKeys[w[1].lowercased()], let count = int(2), count > 0 else { break }
                let codes = w[3...].compactMap { Int32($0) }
                guard codes.count == w.count - 3 else { break }
                var errs: [Int32] = []
                for i in 0..<count { errs.append(codes[i % codes.count]) }
                cluster.pushRequestErrors(apiKey: api, errors: errs); return "ok"
            default: break
            }
            return "error: bad command '\(line)' (see docs/dev-broker.md)"
        } catch {
            return "error: \(error)"
        }
    }

    /// Sends one command to a dev broker's control socket and returns its answer line.
    public static func send(path: String, line: String) throws -> String {
        let s = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard s >= 0 else { throw KafkaError(code: -1, message: "socket: \(String(cString: strerror(errno)))") }
        defer { close(s) }
        var addr = try address(path)
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard ok == 0 else { throw KafkaError(code: -1, message: "connect \(path): \(String(cString: strerror(errno)))") }
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(s, $0.baseAddress, $0.count) }
        var answer: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 1024)
        while !answer.contains(10) {
            let n = read(s, &buf, buf.count)
            if n <= 0 { break }
            answer.append(contentsOf: buf[0..<n])
        }
        return String(decoding: answer, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func address(_ path: String) throws -> sockaddr_un {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            throw KafkaError(code: -1, message: "control socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
            raw[bytes.count] = 0
        }
        return addr
    }
}
