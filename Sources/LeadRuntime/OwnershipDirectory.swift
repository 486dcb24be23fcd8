import Foundation
import LeadKafka
import Logging
import Synchronization

/// Which instance owns which input partition, for `GET /contacts/{id}`'s 409 owner hint.
///
/// A librdkafka group member only learns its own assignment, so every instance announces the partitions it is
/// assigned (key = partition number, value = its advertised HTTP address) on a small compacted topic with one
/// partition, and every instance reads that topic from the start: the latest announcement per partition is the
/// current owner. A record is written on every assignment, so a takeover overrides the previous owner at once;
/// an instance that dies keeps its records until the group reassigns its partitions (seconds).
final class OwnershipDirectory: KafkaConsumerDelegate, @unchecked Sendable {
    let topic: String
    private let kafka: KafkaConfig
    private let logger: Logger
    private let owners = Mutex<[Int32: String]>([:])
    private var reader: KafkaConsumer?

    init(topic: String, kafka: KafkaConfig, logger: Logger) {
        self.topic = topic
        self.kafka = kafka
        self.logger = logger
    }

    /// Starts reading the topic from its beginning (a group-less, manually assigned reader).
    func start() throws {
        var options = ConsumerOptions(groupId: "leadscore-owners-reader")
        options.manualAssignment = [TopicPartition(topic, 0): KafkaOffset.beginning]
        options.batchWaitMs = 50
        var props = kafka.properties
        props["enable.auto.commit"] = "false"
        let c = try KafkaConsumer(config: KafkaConfig(bootstrapServers: kafka.bootstrapServers, clientId: kafka.clientId + "-owners", properties: props),
                                  topics: [topic], options: options, delegate: self)
        try c.start()
        reader = c
    }

    func stop() {
        reader?.closeBlocking()
        reader = nil
    }

    /// Announces this instance as the owner of `partitions` (delivered with the producer's next flush).
    func announce(_ producer: KafkaProducer, partitions: [Int32], address: String) throws {
        for p in partitions {
            try producer.produce(topic: topic, partition: 0, key: Array(String(p).utf8), value: Array(address.utf8), token: 0)
        }
    }

    /// The last announced owner of a partition (nil when nobody announced it yet).
    func owner(of partition: Int32) -> String? { owners.withLock { $0[partition] } }

    // MARK: - reader delegate (its own poll thread)

    func consumer(_ consumer: KafkaConsumer, received batch: MessageBatch) {
        var updates: [(Int32, String)] = []
        for i in 0..<batch.count {
            let m = batch[i]
            guard let key = m.key, let p = Int32(String(decoding: key, as: UTF8.self)) else { continue }
            updates.append((p, String(decoding: m.value, as: UTF8.self)))
        }
        owners.withLock { table in for (p, a) in updates { table[p] = a } }
    }

    func consumer(_ consumer: KafkaConsumer, revoking partitions: [TopicPartition], lost: Bool) {}
    func consumer(_ consumer: KafkaConsumer, assigned partitions: [TopicPartition]) -> [TopicPartition: Int64] { [:] }
    func consumer(_ consumer: KafkaConsumer, error: KafkaError) {
        logger.debug("ownership reader: \(error)")
    }
}
