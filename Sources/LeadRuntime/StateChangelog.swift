import Foundation
import LeadKafka
import LeadScoring
import Synchronization

/// Contact state mirrored to a compacted Kafka topic, so any instance can take over any partition.
///
/// Partition *i* of the changelog holds the contacts of input partition *i*. At each checkpoint the contacts
/// changed since the previous one are produced (key = contact id, value = the engine's contact encoding),
/// followed by one *commit marker* (key `metaKey`) that carries the input offsets and the partition state they
/// correspond to. The broker acknowledges all of it before the input offsets are committed, and the outputs of
/// every event the records reflect were acknowledged before the records were produced.
///
/// A restore applies every contact record and takes the input offsets of the last marker. Contacts written by
/// a checkpoint that died half-way are applied too: under compaction they may be the only surviving version of
/// a contact, and they are safe — their events' outputs were already acknowledged, and the events, read again
/// from the marker's offsets, are recognised as duplicates by the contact's own seen-messageId set.
/// The local checkpoint in `--data-dir` is only a cache that records the marker offset it covers; a restore
/// catches up from there, or from offset 0 without it.
final class StateChangelog: @unchecked Sendable {
    /// Key of the commit marker; a contact id starting with NUL would be misread (not a realistic id).
    static let metaKey: [UInt8] = Array("\u{0}leadscore.checkpoint".utf8)
    /// The entry of a local checkpoint's offsets that records the changelog marker it covers.
    static let localOffsetKey = "\u{0}changelog"
    /// Delivery tokens at or above this mark are changelog markers (below: Kafka timestamps for latency).
    private static let markerToken: UInt64 = 1 << 62

    let topic: String
    private let kafka: KafkaConfig
    /// Offset of the newest acknowledged marker per partition (written by the producer's delivery callback).
    private let markers = Mutex<[Int32: Int64]>([:])

    init(topic: String, kafka: KafkaConfig) {
        self.topic = topic
        self.kafka = kafka
    }

    /// Feeds a delivery report; returns true when it was a changelog marker's.
    func delivered(_ report: DeliveryReport) -> Bool {
        guard report.token >= Self.markerToken else { return false }
        if report.error == nil {
            let p = Int32(report.token - Self.markerToken)
            markers.withLock { $0[p] = max($0[p] ?? -1, report.offset) }
        }
        return true
    }

    /// The offset of the partition's newest acknowledged marker (after a producer flush).
    func acknowledgedMarker(_ partition: Int32) -> Int64? { markers.withLock { $0[partition] } }

    /// Produces the changed contacts and the marker for one partition (acknowledged by the next flush).
    func publish(_ producer: KafkaProducer, partition: Int32, changes: [EncodedContact],
                 offsets: [String: Int64], partitionState: [UInt8]) throws {
        for (id, state) in changes {
            try producer.produce(topic: topic, partition: partition, key: Array(id.utf8), value: state, token: 0)
        }
        let marker = CheckpointFile(isBase: false, generation: 0, sequence: 0, offsets: offsets,
                                    partitionState: partitionState, contacts: []).encode()
        try producer.produce(topic: topic, partition: partition, key: Self.metaKey, value: marker,
                             token: Self.markerToken + UInt64(partition))
    }

    /// What a changelog read found.
    struct Restored {
        /// Input offsets of the last complete checkpoint read (nil: no marker after `from`).
        var offsets: [String: Int64]?
        var markerOffset: Int64?
        var contacts = 0
        var low: Int64 = 0
        var high: Int64 = 0
    }

    /// Applies the changelog from `from` onto `engine` (input offsets: the last marker's). Throws when records
    /// from `from` were evicted (a restore would be silently incomplete).
    func restore(partition: Int32, from: Int64, into engine: PartitionEngine) throws -> Restored {
        var result = Restored()
        let wm = try PartitionReader.read(config: kafka, TopicPartition(topic, partition), from: from) { key, value, offset in
            if key.elementsEqual(Self.metaKey) {
                let marker = try CheckpointFile.decode(Array(value))
                try engine.restorePartitionState(marker.partitionState)
                result.offsets = marker.offsets
                result.markerOffset = offset
            } else if value.count > 0 {
                try engine.restoreContact(id: String(decoding: key, as: UTF8.self), bytes: Array(value))
                result.contacts += 1
            }
        }
        _ = engine.takeDirtyContactIDs()
        result.low = wm.low
        result.high = wm.high
        return result
    }
}
