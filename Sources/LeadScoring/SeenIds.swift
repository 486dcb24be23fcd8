/// Message ids of a very active contact (a Zipf stream's head sees thousands per dedupe window), held by the
/// engine outside the contact's blob once they outgrow `ContactState.seenArrayLimit`.
///
/// Lookups take the cutoff (newest event time − dedupe window), so an id older than the window is
/// forgotten whether or not it was pruned yet: pruning is lazy (amortized) and never changes results.
final class SeenTable {
    private(set) var times: [UInt64: EventTime] = [:]
    private var pruneAt = 128
    private var minTime: EventTime = .max

    var count: Int { times.count }

    @inline(__always) func contains(_ hash: UInt64, cutoff: EventTime) -> Bool {
        if let t = times[hash] { return t >= cutoff }
        return false
    }

    func insert(_ hash: UInt64, at time: EventTime) {
        if time < minTime { minTime = time }
        if let old = times[hash], old >= time { return }
        times[hash] = time
    }

    /// Drops ids older than `cutoff` once the table doubled since the last pruning.
    func prune(cutoff: EventTime) {
        guard minTime < cutoff, times.count >= pruneAt else { return }
        times = times.filter { $0.value >= cutoff }
        minTime = times.values.min() ?? .max
        pruneAt = max(128, 2 * times.count)
    }

    /// Entries in canonical order (event time, hash).
    var sortedEntries: [(hash: UInt64, time: EventTime)] {
        times.map { ($0.key, $0.value) }.sorted { ($0.time, $0.hash) < ($1.time, $1.hash) }
    }
}
