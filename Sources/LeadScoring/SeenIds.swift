/// Message ids of a very active contact (a Zipf stream's head sees thousands per dedupe window), held by the
/// engine outside the contact's blob once they outgrow `ContactState.seenArrayLimit`.
///
/// Open addressing on the (already FNV-hashed) ids, so no second hash function runs. Lookups take the
/// cutoff (newest event time − dedupe window), so an id older than the window is forgotten whether or not
/// it was pruned yet: pruning is lazy (amortized, on growth) and never changes results.
final class SeenTable {
    private var keys: [UInt64]
    private var times: [EventTime]
    private(set) var count = 0
    private var cutoffHint: EventTime = .min

    init(capacity: Int = 256) {
        var c = 64
        while c < capacity * 2 { c <<= 1 }
        keys = Array(repeating: 0, count: c)
        times = Array(repeating: 0, count: c)
    }

    /// 0 marks an empty slot.
    @inline(__always) private static func key(_ hash: UInt64) -> UInt64 { hash == 0 ? 1 : hash }

    @inline(__always) private func slot(of k: UInt64) -> Int {
        let mask = keys.count - 1
        var i = Int(truncatingIfNeeded: k ^ (k >> 29)) & mask
        while keys[i] != 0 && keys[i] != k { i = (i + 1) & mask }
        return i
    }

    @inline(__always) func contains(_ hash: UInt64, cutoff: EventTime) -> Bool {
        let i = slot(of: Self.key(hash))
        return keys[i] != 0 && times[i] >= cutoff
    }

    func insert(_ hash: UInt64, at time: EventTime) {
        let k = Self.key(hash)
        let i = slot(of: k)
        if keys[i] == k {
            if times[i] < time { times[i] = time }
            return
        }
        keys[i] = k
        times[i] = time
        count += 1
        if count * 4 > keys.count * 3 { rebuild(cutoff: cutoffHint) }
    }

    /// Remembers the cutoff; entries older than it are dropped at the next growth.
    func prune(cutoff: EventTime) { cutoffHint = cutoff }

    private func rebuild(cutoff: EventTime) {
        var live: [(UInt64, EventTime)] = []
        live.reserveCapacity(count)
        for i in keys.indices where keys[i] != 0 && times[i] >= cutoff { live.append((keys[i], times[i])) }
        var c = 64
        while c < live.count * 4 { c <<= 1 }   // ≤ 25 % full after a rebuild
        keys = Array(repeating: 0, count: c)
        times = Array(repeating: 0, count: c)
        count = 0
        for (k, t) in live {
            let i = slot(of: k)
            keys[i] = k; times[i] = t; count += 1
        }
    }

    var approximateBytes: Int { 64 + keys.count * 16 + 96 }

    /// Entries in canonical order (event time, hash).
    var sortedEntries: [(hash: UInt64, time: EventTime)] {
        var all: [(hash: UInt64, time: EventTime)] = []
        for i in keys.indices where keys[i] != 0 { all.append((keys[i], times[i])) }
        return all.sorted { ($0.time, $0.hash) < ($1.time, $1.hash) }
    }
}
