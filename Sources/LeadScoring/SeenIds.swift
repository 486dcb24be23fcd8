/// Recent message ids of a contact (64-bit hashes with event time): a small array, or a hash table for the
/// few very active contacts (a Zipf stream's head sees thousands of ids per dedupe window).
///
/// Lookups take the cutoff (newest event time − dedupe window), so an id older than the window is
/// forgotten whether or not it was pruned yet: pruning is lazy and never changes results.
struct SeenIds {
    final class Table {
        var times: [UInt64: EventTime] = [:]
        var pruneAt = 128
    }

    static let tableThreshold = 48
    private(set) var small: [ContactState.SeenId] = []
    private(set) var table: Table?
    /// Lowest event time held (cheap check whether pruning could drop anything).
    private(set) var minTime: EventTime = .max

    var count: Int { table?.times.count ?? small.count }

    @inline(__always) func contains(_ hash: UInt64, cutoff: EventTime) -> Bool {
        if let table {
            if let t = table.times[hash] { return t >= cutoff }
            return false
        }
        for s in small where s.hash == hash && s.time >= cutoff { return true }
        return false
    }

    mutating func insert(_ hash: UInt64, at time: EventTime) {
        if time < minTime { minTime = time }
        if let table {
            if let old = table.times[hash], old >= time { return }
            table.times[hash] = time
            return
        }
        small.append(.init(hash: hash, time: time))
        if small.count > Self.tableThreshold {
            let t = Table()
            for s in small {
                if let old = t.times[s.hash], old >= s.time { continue }
                t.times[s.hash] = s.time
            }
            table = t
            small = []
        }
    }

    /// Drops ids older than `cutoff`: at once for the small array, amortized for the table.
    mutating func prune(cutoff: EventTime) {
        guard minTime < cutoff else { return }
        if let table {
            guard table.times.count >= table.pruneAt else { return }
            table.times = table.times.filter { $0.value >= cutoff }
            minTime = table.times.values.min() ?? .max
            table.pruneAt = max(128, 2 * table.times.count)
            if table.times.count <= Self.tableThreshold / 2 {
                small = table.times.map { ContactState.SeenId(hash: $0.key, time: $0.value) }
                    .sorted { ($0.time, $0.hash) < ($1.time, $1.hash) }
                self.table = nil
            }
            return
        }
        small.removeAll { $0.time < cutoff }
        var m = EventTime.max
        for s in small where s.time < m { m = s.time }
        minTime = m
    }

    /// Canonical order (event time, hash) for checkpoints.
    var sortedEntries: [ContactState.SeenId] {
        let all = table.map { $0.times.map { ContactState.SeenId(hash: $0.key, time: $0.value) } } ?? small
        return all.sorted { ($0.time, $0.hash) < ($1.time, $1.hash) }
    }
}
