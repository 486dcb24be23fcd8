import Foundation
import Testing
import CRdKafka
@testable import LeadKafka

/// The fetch waker (librdkafka < 2.4's queue-full fetch pause): when it wakes, and that a consumer with a
/// prefetch queue far smaller than its backlog reads all of it with the waker's help.
@Suite struct FetchWakerTests {
    @Test func wakesAfterEveryQuarterOfTheQueueAtMostOncePerInterval() {
        var p = FetchWaker.Policy(queueBytes: 4000, minIntervalMs: 5)   // threshold 1000 bytes, 5 ms
        #expect(p.thresholdBytes == 1000)
        func drained(_ bytes: Int, nowNs: UInt64, canWake: Bool = true) -> Bool { p.drained(bytes, nowNs: nowNs, canWake: canWake) }
        #expect(!drained(600, nowNs: 0))
        #expect(drained(400, nowNs: 1_000_000))          // 1000 drained: wake, count starts again
        #expect(!drained(999, nowNs: 10_000_000))
        #expect(drained(1, nowNs: 10_000_001))
        #expect(!drained(5000, nowNs: 12_000_000))       // enough bytes, but 2 ms after the last wake-up
        #expect(drained(0, nowNs: 15_000_001))           // the bytes were kept: wakes once the interval passed
        #expect(!drained(1000, nowNs: 30_000_000, canWake: false))   // one still in flight: kept for later
        #expect(drained(0, nowNs: 30_000_001))
    }

    @Test func neededOnlyBeforeLibrdkafka24() {
        #expect(FetchWaker.needed == (rd_kafka_version() < 0x0204_0000))
    }

    /// 6 000 messages of 1 000 bytes (1 MB per partition, under the built-in cluster's ~5 MiB) through a
    /// 256 KB prefetch queue: every message arrives, in offset order, and the waker woke the fetcher, naming one
    /// partition per leader broker (3 brokers, 6 partitions).
    @Test func aSmallQueueDrainsABacklogManyTimesItsSize() throws {
        let cluster = try MockCluster(brokers: 3)
        try cluster.createTopic("backlog", partitions: 6)
        let producer = try KafkaProducer(config: KafkaConfig(bootstrapServers: cluster.bootstrapServers)) { _ in }
        let pad = String(repeating: "x", count: 990)
        for i in 0..<6000 { try producer.produce(topic: "backlog", partition: Int32(i % 6), key: nil, value: Array("\(i)-\(pad)".utf8), token: 0) }
        try producer.flush(timeoutMs: 30_000)
        let props = fastGroup.merging(["queued.max.messages.kbytes": "256"]) { $1 }
        let (items, c) = try drainWithNewMember(cluster, topics: ["backlog"], group: "g-backlog", properties: props,
                                                count: 6000, seconds: 120)
        #expect(items.count == 6000)
        for p in Int32(0)..<6 { #expect(items.filter { $0.tp.partition == p }.map(\.offset) == Array(0..<1000)) }
        if FetchWaker.needed {
            // 6 MB drained, one wake-up per 64 KB at most; each names at most one partition per broker.
            #expect(c.fetchWakes > 0 && c.fetchWakes <= 6_000_000 / 65_536 + 1)
            #expect((1...3).contains(c.fetchWakePartitions))
        }
    }
}
