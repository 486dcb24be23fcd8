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
            "enable.auto.commit": "false", "enable.partition.eof": "false", "queued.min.messages": "100000", "fetch.wait.max.ms": "100",
        ])
        let rk = try makeClient(RD_KAFKA_CONSUMER, conf: conf)
        defer { rd_kafka_consumer_close(rk); rd_kafka_destroy(rk) }
        let list = makePartitionList((0..<partitions).map { (TopicPartition(topic, Int32($0)), KafkaOffset.beginning) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_assign(rk, list)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "assign") }
        var n = 0
        var bytes = 0
        var first: DispatchTime?
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeoutSeconds * 1e9)
        while n < expected && DispatchTime.now().uptimeNanoseconds < deadline {
            guard let m = rd_kafka_consumer_poll(rk, 100) else { continue }
            if m.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                if first == nil { first = .now() }
                n += 1
                bytes &+= m.pointee.len
            }
            rd_kafka_message_destroy(m)
        }
        let secs = first.map { Double(DispatchTime.now().uptimeNanoseconds - $0.uptimeNanoseconds) / 1e9 } ?? 0
        return (n, secs)
    }
}
