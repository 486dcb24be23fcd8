import ArgumentParser
import Foundation
import LeadKafka
import Synchronization

/// `leadscored bench-kafka`: LeadKafka's consumer and producer against librdkafka's bare C loops, on the same
/// topic in the same run (ratios are what matter on a shared, noisy machine).
struct BenchKafkaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-kafka",
        abstract: "Measure LeadKafka's consumer and producer against raw librdkafka (one JSON line)."
    )

    @Option(help: "Messages per measurement.") var messages: Int = 400_000
    @Option(help: "Partitions (the built-in cluster keeps ~5 MiB each: keep messages × 100 B / partitions under that).") var partitions: Int = 16
    @Option(help: "Payload bytes per message.") var size: Int = 100
    @Option(help: "Only drain this existing topic with the raw C loop and print its rate (needs --bootstrap-servers).") var drainTopic: String?
    @Option(help: "Kafka to use with --drain-topic.") var bootstrapServers: String?

    func run() throws {
        if let drainTopic, let bootstrapServers {
            let r = try RawKafkaBaseline.drain(bootstrapServers: bootstrapServers, topic: drainTopic, expected: Int.max, timeoutSeconds: 120)
            print(String(format: "{\"topic\":\"%@\",\"messages\":%d,\"seconds\":%.3f,\"raw_consume_per_sec\":%.0f}", drainTopic, r.messages, r.seconds, Double(r.messages) / max(r.seconds, 1e-9)))
            return
        }
        let cluster = try MockCluster(brokers: 1)
        try cluster.createTopic("bench-raw-produce", partitions: partitions)
        try cluster.createTopic("bench-lead-produce", partitions: partitions)
        let payload = [UInt8](repeating: UInt8(ascii: "x"), count: size)
        let keys = (0..<1000).map { Array("contact-\($0)".utf8) }

        // Producer: LeadKafka (backpressure, delivery tokens) vs the C API through the same shim, no wrapper.
        let rawProduce = try RawKafkaBaseline.produce(bootstrapServers: cluster.bootstrapServers, topic: "bench-raw-produce",
                                                      count: messages, payload: payload, keys: keys)
        let acked = Atomic<Int>(0)
        let producer = try KafkaProducer(config: KafkaConfig(bootstrapServers: cluster.bootstrapServers)) { r in
            if r.error == nil { acked.add(1, ordering: .relaxed) }
        }
        try producer.produce(topic: "bench-lead-produce", key: nil, value: [], token: UInt64.max)   // warm-up, as the raw loop
        try producer.flush(timeoutMs: 10_000)
        let t0 = Date()
        try payload.withUnsafeBytes { v in
            for i in 0..<messages {
                try keys[i % keys.count].withUnsafeBytes { k in
                    try producer.produce(topic: "bench-lead-produce", key: k, value: v, token: UInt64(i))
                }
            }
        }
        try producer.flush(timeoutMs: 120_000)
        let leadProduceSeconds = Date().timeIntervalSince(t0)
        producer.close()

        // Consumer: the same preloaded topic drained by a bare C poll loop and by KafkaConsumer (batches to a delegate).
        let raw = try RawKafkaBaseline.drain(bootstrapServers: cluster.bootstrapServers, topic: "bench-lead-produce", expected: messages + 1)
        let counter = CountingDelegate(expected: messages + 1)
        let consumer = try KafkaConsumer(config: KafkaConfig(bootstrapServers: cluster.bootstrapServers, properties: ["enable.auto.commit": "false"]),
                                         topics: ["bench-lead-produce"], options: ConsumerOptions(groupId: "bench-kafka-\(getpid())"), delegate: counter)
        try consumer.start()
        counter.done.wait()
        let leadSeconds = counter.seconds
        consumer.closeBlocking()

        let rawConsumeRate = Double(raw.messages) / raw.seconds
        let leadConsumeRate = Double(messages + 1) / leadSeconds
        let rawProduceRate = Double(messages) / rawProduce
        let leadProduceRate = Double(acked.load(ordering: .relaxed) - 1) / leadProduceSeconds
        print(String(format: "{\"messages\":%d,\"bytes\":%d,\"partitions\":%d,\"raw_consume_per_sec\":%.0f,\"leadkafka_consume_per_sec\":%.0f,\"consume_ratio\":%.3f,\"raw_produce_per_sec\":%.0f,\"leadkafka_produce_per_sec\":%.0f,\"produce_ratio\":%.3f}",
                     messages, size, partitions, rawConsumeRate, leadConsumeRate, leadConsumeRate / rawConsumeRate,
                     rawProduceRate, leadProduceRate, leadProduceRate / rawProduceRate))
    }
}

/// Counts consumed messages; reading each value's bytes so the comparison with the raw loop is fair.
final class CountingDelegate: KafkaConsumerDelegate, @unchecked Sendable {
    let expected: Int
    let done = DispatchSemaphore(value: 0)
    private var count = 0
    private var bytes = 0
    private var first: Date?
    private(set) var seconds = 0.0

    init(expected: Int) { self.expected = expected }

    func consumer(_ consumer: KafkaConsumer, received batch: MessageBatch) {
        if first == nil { first = Date() }
        for m in batch { bytes &+= m.value.count }
        count += batch.count
        if count >= expected && seconds == 0 { seconds = Date().timeIntervalSince(first!); done.signal() }
    }
    func consumer(_ consumer: KafkaConsumer, revoking partitions: [TopicPartition], lost: Bool) {}
    func consumer(_ consumer: KafkaConsumer, assigned partitions: [TopicPartition]) -> [TopicPartition: Int64] { [:] }
    func consumer(_ consumer: KafkaConsumer, error: KafkaError) {}
}
