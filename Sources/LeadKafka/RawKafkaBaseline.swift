import CRdKafka
import Foundation

/// librdkafka alone, with no leadscore code in the loop: the physical limit the bench compares the daemon
/// (and the benchmarks compare LeadKafka) against, measured in the same run on the same topic.
public enum RawKafkaBaseline {
    /// Drains `expected` messages of `topic` from the beginning with a bare `rd_kafka_consumer_poll` loop
    /// (assign, no group coordination). Returns what it read and how long it took from the first message.
    public static func drain(bootstrapServers: String, topic: String, expected: Int, timeoutSeconds: Double = 60) throws -> (messages: Int, seconds: Double) {
        let counts = try KafkaAdmin.partitionCounts(config: KafkaConfig(bootstrapServers: bootstrapServers), topics: [topic])
        let partitions = counts[topic] ?? 0
        guard partitions > 0 else { throw KafkaError(code: -1, message: "topic \(topic) does not exist") }
        let conf = try KafkaConfig(bootstrapServers: bootstrapServers, clientId: "leadscore-raw-drain").makeConf(defaults: [
            "group.id": "leadscore-raw-\(getpid())-\(UInt32.random(in: 0...UInt32.max))",
            "enable.auto.commit": "false", "enable.partition.eof": "false", "queued.min.messages": "1000000", "fetch.wait.max.ms": "100",
        ])
        let rk = try makeClient(RD_KAFKA_CONSUMER, conf: conf)
        defer { rd_kafka_consumer_close(rk); rd_kafka_destroy(rk) }
        let list = makePartitionList((0..<partitions).map { (TopicPartition(topic, Int32($0)), KafkaOffset.beginning) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_assign(rk, list)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "assign") }
        var n = 0
        var bytes = 0
        var first: UInt64?
        var last: UInt64 = 0
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeoutSeconds * 1e9)
        while n < expected && DispatchTime.now().uptimeNanoseconds < deadline {
            guard let m = rd_kafka_consumer_poll(rk, 100) else {
                // Drained (or retention dropped the rest): stop after one idle second.
                if let f = first, DispatchTime.now().uptimeNanoseconds - max(last, f) > 1_000_000_000 { break }
                continue
            }
            if m.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                last = DispatchTime.now().uptimeNanoseconds
                if first == nil { first = last }
                n += 1
                bytes &+= m.pointee.len
            }
            rd_kafka_message_destroy(m)
        }
        let secs = first.map { Double(max(last, $0 + 1) - $0) / 1e9 } ?? 0
        return (n, secs)
    }

    /// Produces `count` messages with a bare `rd_kafka_producev` loop (same idempotent, linger settings as
    /// `KafkaProducer`) and waits for every delivery. Returns the seconds taken.
    public static func produce(bootstrapServers: String, topic: String, count: Int, payload: [UInt8], keys: [[UInt8]]) throws -> Double {
        let conf = try KafkaConfig(bootstrapServers: bootstrapServers, clientId: "leadscore-raw-produce").makeConf(defaults: [
            "enable.idempotence": "true", "linger.ms": "50", "batch.num.messages": "10000", "batch.size": "1000000",
            "queue.buffering.max.messages": "200000", "queue.buffering.max.kbytes": "1048576",
        ])
        let rk = try makeClient(RD_KAFKA_PRODUCER, conf: conf)
        defer { rd_kafka_destroy(rk) }
        // Warm up (metadata, producer id) outside the measurement, as the wrapper's measurement does.
        _ = ls_produce(rk, topic, RD_KAFKA_PARTITION_UA, nil, 0, nil, 0, nil, nil)
        _ = rd_kafka_flush(rk, 10_000)
        let t0 = DispatchTime.now().uptimeNanoseconds
        payload.withUnsafeBytes { v in
            for i in 0..<count {
                keys[i % keys.count].withUnsafeBytes { k in
                    while ls_produce(rk, topic, RD_KAFKA_PARTITION_UA, k.baseAddress, k.count, v.baseAddress, v.count, nil, nil) == RD_KAFKA_RESP_ERR__QUEUE_FULL {
                        rd_kafka_poll(rk, 10)
                    }
                }
            }
        }
        let err = rd_kafka_flush(rk, 120_000)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "flush") }
        return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    }
}
