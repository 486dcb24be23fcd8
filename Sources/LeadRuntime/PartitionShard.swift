import Foundation
import LeadScoring

/// The state of one input partition number (across all input topics): its contacts' engine, the next input
/// offset per topic, and its checkpoints. Written only by the consumer's poll thread; HTTP readers take `lock`.
///
/// Its mutable properties skip Swift's dynamic exclusivity check (`@exclusivity(unchecked)`): the lane reads
/// and writes them for every message, the check costs a thread-local lookup each time, and it cannot see
/// other threads anyway (the lock and the lane hand-over order those accesses).
final class PartitionShard: @unchecked Sendable {
    enum Status: Equatable {
        case restoring
        case ready
        /// No usable state and no permission to rebuild: nothing is processed or committed for it.
        case failed(String)
    }

    let partition: Int32
    let lock = NSLock()
    let engine: PartitionEngine
    let store: CheckpointStore
    /// The daemon's input topics; `next` is indexed like them.
    let topics: [String]
    /// Next offset to read per input topic, by position in `topics` (`PartitionShard.unset`: none yet). The
    /// per-message path reads and writes this array instead of hashing a topic name twice per event.
    @exclusivity(unchecked) var next: [Int64]
    /// `next` by topic name (what a checkpoint and a commit record); topics not in `topics` are ignored.
    var nextOffsets: [String: Int64] {
        get {
            var d: [String: Int64] = [:]
            for (i, t) in topics.enumerated() where next[i] != PartitionShard.unset { d[t] = next[i] }
            return d
        }
        set { next = topics.map { newValue[$0] ?? PartitionShard.unset } }
    }
    static let unset = Int64.min
    /// Offset of the state changelog marker the restored state covers (nil: none).
    @exclusivity(unchecked) var changelogMarker: Int64?
    @exclusivity(unchecked) var status: Status = .restoring
    /// The daemon's processing lane (thread) that scores this partition's messages.
    @exclusivity(unchecked) var lane = 0
    /// Events handed to the lane since the last lane balance (written by the poll thread only).
    @exclusivity(unchecked) var recentLoad = 0
    /// Offsets processed since the last checkpoint (nothing to write when false).
    @exclusivity(unchecked) var changedSinceCheckpoint = false

    init(partition: Int32, topics: [String], engine: PartitionEngine, store: CheckpointStore) {
        self.partition = partition
        self.topics = topics
        next = topics.map { _ in PartitionShard.unset }
        self.engine = engine
        self.store = store
    }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock(); defer { lock.unlock() }
        return try body()
    }
}
