import Foundation
import Synchronization
import Testing
@testable import LeadKafka

/// Collects everything a consumer hands over, for tests.
final class CollectingDelegate: KafkaConsumerDelegate, @unchecked Sendable {
    struct Item: Sendable { var tp: TopicPartition; var offset: Int64; var key: String; var value: String }
    let items = Mutex<[Item]>([])
    let assigned = Mutex<[TopicPartition]>([])
    let revoked = Mutex<[TopicPartition]>([])
    let errors = Mutex<[String]>([])
    var onRevoke: (@Sendable ([TopicPartition]) -> Void)?
    /// Commit stored offsets inside the revoke hook (before the partitions move).
    var commitOnRevoke = false
    /// Why a commit in the revoke hook failed (the group may already be rebalancing again: the broker then
    /// refuses it, and the next owner re-reads from the previous commit — at-least-once, not a loss).
    let commitErrors = Mutex<[String]>([])
    weak var consumerRef: KafkaConsumer?
    let revokedAt = Mutex<[TopicPartition: Date]>([:])
    let assignedAt = Mutex<[TopicPartition: Date]>([:])

    func consumer(_ consumer: KafkaConsumer, received batch: MessageBatch) {
        var got: [Item] = []
        for m in batch {
            got.append(Item(tp: TopicPartition(m.topic, m.partition), offset: m.offset,
                            key: m.key.map { String(decoding: $0, as: UTF8.self) } ?? "",
                            value: String(decoding: m.value, as: UTF8.self)))
        }
        items.withLock { $0.append(contentsOf: got) }
    }
    func consumer(_ consumer: KafkaConsumer, revoking partitions: [TopicPartition], lost: Bool) {
        onRevoke?(partitions)
        if commitOnRevoke {
            let last = items.withLock { items in
                Dictionary(items.filter { partitions.contains($0.tp) }.map { ($0.tp, $0.offset + 1) }, uniquingKeysWith: max)
            }
            for (tp, o) in last { try? consumer.storeOffset(tp, nextOffset: o) }
            do { try consumer.commit() } catch { commitErrors.withLock { $0.append("\(error)") } }
        }
        let now = Date()
        revokedAt.withLock { for tp in partitions { $0[tp] = now } }
        revoked.withLock { $0.append(contentsOf: partitions) }
    }
    func consumer(_ consumer: KafkaConsumer, assigned partitions: [TopicPartition]) -> [TopicPartition: Int64] {
        assigned.withLock { $0.append(contentsOf: partitions) }
        let now = Date()
        assignedAt.withLock { for tp in partitions { $0[tp] = now } }
        return [:]
    }
    func consumer(_ consumer: KafkaConsumer, error: KafkaError) { errors.withLock { $0.append(error.message) } }
    var count: Int { items.withLock { $0.count } }
}

/// Polls `condition` until it holds or `seconds` pass.
func eventually(_ seconds: Double, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}

let fastGroup: [String: String] = ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500"]

@Test func producerToConsumerRoundTripThroughBuiltInCluster() async throws {
    let cluster = try MockCluster(brokers: 1)
    try cluster.createTopic("smoke", partitions: 3)
    let acked = Atomic<Int>(0)
    let producer = try KafkaProducer(config: KafkaConfig(bootstrapServers: cluster.bootstrapServers)) { r in
        if r.error == nil { acked.add(1, ordering: .relaxed) }
    }
    for i in 0..<1000 {
        try producer.produce(topic: "smoke", key: Array("k\(i % 17)".utf8), value: Array("v\(i)".utf8), token: UInt64(i))
    }
    try producer.flush(timeoutMs: 10_000)
    #expect(acked.load(ordering: .relaxed) == 1000)

    let delegate = CollectingDelegate()
    var opts = ConsumerOptions(groupId: "smoke-g")
    opts.batchSize = 100
    let consumer = try KafkaConsumer(config: KafkaConfig(bootstrapServers: cluster.bootstrapServers, properties: fastGroup),
                                     topics: ["smoke"], options: opts, delegate: delegate)
    try consumer.start()
    #expect(await eventually(20) { delegate.count == 1000 })
    let items = delegate.items.withLock { $0 }
    for p in Int32(0)..<3 {
        let offs = items.filter { $0.tp.partition == p }.map(\.offset)
        #expect(offs == offs.sorted())
    }
    await consumer.close()
    #expect(Set(delegate.revoked.withLock { $0 }) == Set(delegate.assigned.withLock { $0 }))
    producer.close()
}

@Test func unknownPropertyIsAClearError() throws {
    #expect(throws: KafkaError.self) {
        _ = try KafkaProducer(config: KafkaConfig(bootstrapServers: "127.0.0.1:1", properties: ["no.such.property": "1"])) { _ in }
    }
    do {
        _ = try KafkaProducer(config: KafkaConfig(bootstrapServers: "127.0.0.1:1", properties: ["no.such.property": "1"])) { _ in }
    } catch {
        #expect(error.message.contains("no.such.property"))
    }
}
