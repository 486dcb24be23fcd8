import CRdKafka
import Logging

/// Client configuration: the few options leadscore sets itself plus any librdkafka property passed through
/// verbatim (SASL, SSL, timeouts…), so operators can use librdkafka's documentation directly.
public struct KafkaConfig: Sendable {
    public var bootstrapServers: String
    public var clientId: String
    /// Any librdkafka property; these win over leadscore's defaults.
    public var properties: [String: String]
    /// Receives librdkafka's statistics every `statistics.interval.ms` (a property; 0 or unset: never), parsed,
    /// on a utility queue of its own — consumers and producers only. nil: statistics are not collected.
    public var onStatistics: (@Sendable (KafkaStatistics) -> Void)?

    public init(bootstrapServers: String, clientId: String = "leadscored", properties: [String: String] = [:],
                onStatistics: (@Sendable (KafkaStatistics) -> Void)? = nil) {
        self.bootstrapServers = bootstrapServers
        self.clientId = clientId
        self.properties = properties
        self.onStatistics = onStatistics
    }

    /// Properties librdkafka only accepts on consumers.
    static func isConsumerOnly(_ key: String) -> Bool {
        key.hasPrefix("group.") || key.hasPrefix("fetch.") || key.hasPrefix("auto.") || key.hasPrefix("enable.auto.")
            || ["session.timeout.ms", "heartbeat.interval.ms", "max.poll.interval.ms", "partition.assignment.strategy",
                "isolation.level", "queued.min.messages", "queued.max.messages.kbytes", "enable.partition.eof",
                "check.crcs", "allow.auto.create.topics", "coordinator.query.interval.ms"].contains(key)
    }

    /// Builds a `rd_kafka_conf_t`: `defaults` first, then bootstrap/client id, then the user's properties.
    /// Unknown properties and invalid values fail here with librdkafka's message.
    func makeConf(defaults: [String: String]) throws(KafkaError) -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else { throw KafkaError(code: -1, message: "rd_kafka_conf_new failed") }
        var merged = defaults
        if !bootstrapServers.isEmpty { merged["bootstrap.servers"] = bootstrapServers }
        merged["client.id"] = clientId
        for (k, v) in properties { merged[k] = v }
        for (k, v) in merged.sorted(by: { $0.key < $1.key }) {
            do { try Self.set(conf, k, v) } catch { rd_kafka_conf_destroy(conf); throw error }
        }
        rd_kafka_conf_set_log_cb(conf, kafkaLogCallback)
        return conf
    }

    static func set(_ conf: OpaquePointer, _ key: String, _ value: String) throws(KafkaError) {
        var errbuf = [CChar](repeating: 0, count: 512)
        let res = rd_kafka_conf_set(conf, key, value, &errbuf, errbuf.count)
        if res != RD_KAFKA_CONF_OK {
            throw KafkaError(code: -1, message: "kafka property \(key)=\(value): \(stringFromBuffer(errbuf))")
        }
    }
}

let kafkaLogger = Logger(label: "librdkafka")

/// librdkafka log lines → swift-log (syslog levels 0…7).
private func kafkaLogCallback(_ rk: OpaquePointer?, _ level: Int32, _ fac: UnsafePointer<CChar>?, _ buf: UnsafePointer<CChar>?) {
    let text = buf.map { String(cString: $0) } ?? ""
    let facility = fac.map { String(cString: $0) } ?? ""
    let swiftLevel: Logger.Level
    switch level {
    case ...3: swiftLevel = .error
    case 4: swiftLevel = .warning
    case 5, 6: swiftLevel = .info
    default: swiftLevel = .debug
    }
    kafkaLogger.log(level: swiftLevel, "\(facility): \(text)")
}

/// Creates a client handle, turning librdkafka's error buffer into a `KafkaError`.
func makeClient(_ type: rd_kafka_type_t, conf: OpaquePointer) throws(KafkaError) -> OpaquePointer {
    var errbuf = [CChar](repeating: 0, count: 512)
    guard let rk = rd_kafka_new(type, conf, &errbuf, errbuf.count) else {
        rd_kafka_conf_destroy(conf)
        throw KafkaError(code: -1, message: "cannot create Kafka client: \(stringFromBuffer(errbuf))")
    }
    return rk
}

/// A NUL-terminated C buffer as a String.
func stringFromBuffer(_ buf: [CChar]) -> String {
    String(decoding: buf.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// A property's value in a configuration object (librdkafka's default when not set), nil when unknown.
func confValue(_ conf: OpaquePointer, _ name: String) -> String? {
    var size = 0
    guard rd_kafka_conf_get(conf, name, nil, &size) == RD_KAFKA_CONF_OK, size > 0 else { return nil }
    var buf = [CChar](repeating: 0, count: size)
    guard rd_kafka_conf_get(conf, name, &buf, &size) == RD_KAFKA_CONF_OK else { return nil }
    return stringFromBuffer(buf)
}
