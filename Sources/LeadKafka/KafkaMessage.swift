import CRdKafka

/// A view of one consumed message. Key and value point into librdkafka's buffer: valid while the owning
/// `MessageBatch` is alive, read without copying.
public struct KafkaMessage {
    let raw: UnsafeMutablePointer<rd_kafka_message_t>

    public var partition: Int32 { raw.pointee.partition }
    public var offset: Int64 { raw.pointee.offset }

    /// The topic name (allocates a String; callers on a hot path cache by `topicHandle`).
    public var topic: String { String(cString: rd_kafka_topic_name(raw.pointee.rkt)) }
    /// Opaque identity of the topic, stable for the client's life: a cheap cache key for `topic`.
    public var topicHandle: OpaquePointer? { raw.pointee.rkt }

    public var value: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: raw.pointee.payload, count: raw.pointee.payload == nil ? 0 : raw.pointee.len)
    }

    /// nil when the message has no key (not the same as an empty key).
    public var key: UnsafeRawBufferPointer? {
        guard let k = raw.pointee.key else { return nil }
        return UnsafeRawBufferPointer(start: k, count: raw.pointee.key_len)
    }

    /// Message timestamp (create or log-append time) in milliseconds since the epoch, nil when absent.
    public var timestampMillis: Int64? {
        var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let ts = rd_kafka_message_timestamp(raw, &type)
        return type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : ts
    }

    /// All headers, copied (headers are off the hot path: tests and dead letters).
    public var headers: [(name: String, value: [UInt8])] {
        var hdrs: OpaquePointer?
        guard rd_kafka_message_headers(raw, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR, let hdrs else { return [] }
        var out: [(String, [UInt8])] = []
        var idx = 0
        while true {
            var name: UnsafePointer<CChar>?
            var val: UnsafeRawPointer?
            var size = 0
            guard rd_kafka_header_get_all(hdrs, idx, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR else { break }
            let bytes = val.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
            out.append((name.map { String(cString: $0) } ?? "", bytes))
            idx += 1
        }
        return out
    }
}

/// Messages handed over by the consumer's poll thread in one piece: one hop per batch, not per message.
/// Owns the librdkafka messages and releases them when the batch is released.
public final class MessageBatch: @unchecked Sendable, RandomAccessCollection {
    private var raws: [UnsafeMutablePointer<rd_kafka_message_t>]

    init(_ raws: [UnsafeMutablePointer<rd_kafka_message_t>]) { self.raws = raws }

    deinit { for m in raws { rd_kafka_message_destroy(m) } }

    public var startIndex: Int { 0 }
    public var endIndex: Int { raws.count }
    public subscript(i: Int) -> KafkaMessage { KafkaMessage(raw: raws[i]) }

    /// Indices of the messages grouped by partition (topic, partition), in offset order within each.
    public func indicesByPartition() -> [TopicPartition: [Int]] {
        var names: [OpaquePointer?: String] = [:]
        var out: [TopicPartition: [Int]] = [:]
        for i in 0..<raws.count {
            let m = raws[i].pointee
            let name: String
            if let n = names[m.rkt] { name = n } else { name = String(cString: rd_kafka_topic_name(m.rkt)); names[m.rkt] = name }
            out[TopicPartition(name, m.partition), default: []].append(i)
        }
        return out
    }
}
