import Foundation
import Synchronization
import Testing
@testable import LeadKafka

/// Runs a blocking librdkafka call (produce with backpressure, flush, commit) on a thread of its own, so the
/// test never blocks Swift's cooperative pool.
private func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { c in
        Thread { c.resume(with: Result { try body() }) }.start()
    }
}

/// librdkafka's statistics (`statistics.interval.ms`) reach the handler parsed, from consumers and producers.
@Suite(.serialized) struct StatisticsTests {
    /// The shape librdkafka 2.x writes (STATISTICS.md), trimmed to what is parsed plus what must be skipped.
    static let sample = #"""
    {"name":"leadscored#consumer-1","client_id":"leadscored","type":"consumer","ts":1,"time":2,"replyq":3,
     "msg_cnt":0,"tx":10,"tx_bytes":1200,"rx":9,"rx_bytes":3400,"txmsgs":0,"rxmsgs":57,
     "brokers":{
       "127.0.0.1:9092/1":{"name":"127.0.0.1:9092/1","nodeid":1,"source":"learned","state":"UP",
                           "rtt":{"min":100,"max":9000,"avg":1500,"sum":15000,"cnt":10,"p50":1200,"p99":8500}},
       "GroupCoordinator":{"name":"GroupCoordinator","nodeid":-1,"source":"logical","rtt":{"avg":1,"p99":1,"cnt":1}},
       ":0/internal":{"name":":0/internal","nodeid":-1,"source":"internal","rtt":{"avg":0,"p99":0,"cnt":0}}},
     "topics":{"events":{"topic":"events","partitions":{
       "0":{"partition":0,"fetchq_cnt":7,"consumer_lag":12},
       "1":{"partition":1,"fetchq_cnt":0,"consumer_lag":-1},
       "-1":{"partition":-1,"fetchq_cnt":0,"consumer_lag":-1}}}}}
    """#

    @Test func parsesTheExportedFieldsAndSkipsLibrdkafkasInternalEntries() throws {
        let s = try KafkaStatistics(json: Data(Self.sample.utf8))
        #expect(s.client == "consumer" && s.name == "leadscored#consumer-1")
        #expect(s.replyQueue == 3 && s.transmittedBytes == 1200 && s.receivedBytes == 3400 && s.receivedMessages == 57)
        #expect(s.brokers == [.init(name: "127.0.0.1:9092/1", nodeId: 1, rttAverage: 0.0015, rttP99: 0.0085, rttSamples: 10)])
        #expect(s.partitions == [.init(topic: "events", partition: 0, consumerLag: 12, fetchQueueMessages: 7),
                                 .init(topic: "events", partition: 1, consumerLag: nil, fetchQueueMessages: 0)])
        #expect(throws: KafkaError.self) { try KafkaStatistics(json: Data("[1]".utf8)) }
        #expect(throws: (any Error).self) { try KafkaStatistics(json: Data("{".utf8)) }
    }

    @Test func consumerAndProducerDeliverParsedStatisticsAtTheInterval() async throws {
        let cluster = try MockCluster(brokers: 1)
        try cluster.createTopic("stats", partitions: 2)
        let reports = Mutex<[KafkaStatistics]>([])
        let collect: @Sendable (KafkaStatistics) -> Void = { s in reports.withLock { $0.append(s) } }
        func seen(_ match: (KafkaStatistics) -> Bool) -> Bool { reports.withLock { $0.contains(where: match) } }
        let interval = ["statistics.interval.ms": "100"]
        let producer = try KafkaProducer(config: KafkaConfig(bootstrapServers: cluster.bootstrapServers, properties: interval,
                                                              onStatistics: collect)) { _ in }
        try await onThread {
            for i in 0..<50 {
                try producer.produce(topic: "stats", partition: Int32(i % 2), key: nil, value: Array("m\(i)".utf8), token: 0)
            }
            try producer.flush(timeoutMs: 10_000)
        }
        // The producer sent the 50 messages and measured the broker's round trips.
        #expect(await eventually(30) {
            seen { $0.client == "producer" && $0.transmittedMessages >= 50 && $0.transmittedBytes > 0
                && $0.brokers.contains { $0.nodeId == 1 && $0.rttSamples > 0 && $0.rttAverage > 0 && $0.rttP99 >= $0.rttAverage } }
        })

        let d = CollectingDelegate()
        let consumer = try KafkaConsumer(config: KafkaConfig(bootstrapServers: cluster.bootstrapServers,
                                                             properties: fastGroup.merging(interval) { $1 }, onStatistics: collect),
                                         topics: ["stats"], options: ConsumerOptions(groupId: "g-stats"), delegate: d)
        try consumer.start()
        #expect(await eventually(30) { d.count == 50 })
        try await onThread { try consumer.commit([TopicPartition("stats", 0): 25, TopicPartition("stats", 1): 25]) }
        // Committed up to the end: lag 0 on both partitions, 50 messages received.
        #expect(await eventually(30) {
            seen { s in s.client == "consumer" && s.receivedMessages >= 50
                && s.partitions.filter { $0.topic == "stats" }.map(\.consumerLag) == [0, 0] }
        })
        // Ten more on partition 0, consumed but not committed: librdkafka's lag (vs committed) is 10 there.
        try await onThread {
            for i in 0..<10 { try producer.produce(topic: "stats", partition: 0, key: nil, value: Array("n\(i)".utf8), token: 0) }
            try producer.flush(timeoutMs: 10_000)
        }
        #expect(await eventually(30) { d.count == 60 })
        #expect(await eventually(30) {
            seen { s in s.client == "consumer" && s.partitions.contains { $0.topic == "stats" && $0.partition == 0 && $0.consumerLag == 10 } }
        })
        await consumer.close()
        try await onThread { producer.close() }
        #expect(d.errors.withLock { $0 }.isEmpty)
    }
}
