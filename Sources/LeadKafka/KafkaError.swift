import CRdKafka

/// A librdkafka failure, carrying librdkafka's own text so operators see the real cause.
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    /// `rd_kafka_resp_err_t` value (negative: client-local errors such as `_TRANSPORT`), or -1 for configuration.
    public var code: Int32
    public var message: String

    public init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    init(_ err: rd_kafka_resp_err_t, context: String) {
        self.code = err.rawValue
        self.message = "\(context): \(String(cString: rd_kafka_err2str(err)))"
    }

    public var description: String { message }

    /// librdkafka's name for the code, e.g. `_QUEUE_FULL` or `OFFSET_OUT_OF_RANGE`.
    public var name: String { String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(rawValue: code))) }

    public var isOffsetOutOfRange: Bool { code == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE.rawValue }
}
