import CRdKafka
import Foundation

/// Reads one partition from an offset up to the end it had when the read began: restoring state from a
/// changelog topic, where the caller needs every record in order and then wants to stop.
///
/// Blocking (a short-lived client without a consumer group): call it from a dedicated thread, e.g. inside the
/// consumer's assignment hook, which already runs on the poll thread.
public enum PartitionReader {
    /// The partition's low and high watermarks (first retained offset, next offset to be written).
    public static func watermarks(config: KafkaConfig, _ partition: TopicPartition, timeoutMs: Int32 = 10_000) throws(KafkaError) -> (low: Int64, high: Int64) {
        let rk = try client(config)
        defer { rd_kafka_destroy(rk) }
        return try watermarks(rk, partition, timeoutMs: timeoutMs)
    }

    private static func watermarks(_ rk: OpaquePointer, _ tp: TopicPartition, timeoutMs: Int32) throws(KafkaError) -> (low: Int64, high: Int64) {
        var low: Int64 = -1, high: Int64 = -1
        let err = rd_kafka_query_watermark_offsets(rk, tp.topic, tp.partition, &low, &high, timeoutMs)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "watermarks of \(tp)") }
        return (low, high)
    }

    private static func client(_ config: KafkaConfig) throws(KafkaError) -> OpaquePointer {
        var props = config.properties.filter { !$0.key.hasPrefix("group.") }
        // librdkafka wants a group id even for assign(); nothing joins or commits under it.
        props["group.id"] = config.clientId + "-restore"
        props["enable.auto.commit"] = "false"
        props["enable.partition.eof"] = "true"
        props["auto.offset.reset"] = "error"
        let conf = try KafkaConfig(bootstrapServers: config.bootstrapServers, clientId: config.clientId + "-restore", properties: props)
            .makeConf(defaults: ["fetch.wait.max.ms": "10", "queued.min.messages": "100000"])
        let rk = try makeClient(RD_KAFKA_CONSUMER, conf: conf)
        rd_kafka_poll_set_consumer(rk)
        return rk
    }

    /// Calls `body(key, value, offset)` for every record in `[from, high)`, where `high` is the high watermark
    /// when the read starts. Returns the watermarks seen. Throws when `from` was already evicted (`from < low`)
    /// or the partition stops making progress for `stallTimeoutMs`. Key and value are only valid inside `body`.
    @discardableResult
    public static func read(config: KafkaConfig, _ tp: TopicPartition, from: Int64, stallTimeoutMs: Int = 30_000,
                            _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer, Int64) throws -> Void) throws -> (low: Int64, high: Int64) {
        let rk = try client(config)
        defer { rd_kafka_consumer_close(rk); rd_kafka_destroy(rk) }
        let (low, high) = try watermarks(rk, tp, timeoutMs: 10_000)
        if from >= high { return (low, high) }
        if from < low {
            throw KafkaError(code: RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE.rawValue,
                             message: "\(tp) starts at offset \(low): records from \(from) were evicted")
        }
        let list = makePartitionList([(tp, from)])
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_assign(rk, list)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "assign \(tp)") }
        var next = from
        var lastProgress = Date()
        while next < high {
            guard let m = rd_kafka_consumer_poll(rk, 200) else {
                if Date().timeIntervalSince(lastProgress) * 1000 > Double(stallTimeoutMs) {
                    throw KafkaError(code: RD_KAFKA_RESP_ERR__TIMED_OUT.rawValue, message: "reading \(tp): no progress at offset \(next) of \(high) for \(stallTimeoutMs) ms")
                }
                continue
            }
            defer { rd_kafka_message_destroy(m) }
            let msg = m.pointee
            if msg.err == RD_KAFKA_RESP_ERR__PARTITION_EOF { if msg.offset >= high { break } else { continue } }
            if msg.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                let text = msg.payload.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: msg.len), as: UTF8.self) } ?? ""
                throw KafkaError(code: msg.err.rawValue, message: "reading \(tp) at \(next): \(String(cString: rd_kafka_err2str(msg.err))) \(text)")
            }
            if msg.offset < next { continue }
            let key = UnsafeRawBufferPointer(start: msg.key, count: msg.key_len)
            let value = UnsafeRawBufferPointer(start: msg.payload, count: msg.len)
            try body(key, value, msg.offset)
            next = msg.offset + 1
            lastProgress = Date()
        }
        return (low, high)
    }
}
