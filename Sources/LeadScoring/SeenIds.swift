/// Message ids of a very active contact (a Zipf stream's head sees thousands per dedupe window), held by the
/// engine outside the contact's blob once they outgrow `ContactState.seenArrayLimit`.
///
/// Open addressing on the (already FNV-hashed) ids, so no second hash function runs. Lookups take the
/// cutoff (newest event time − dedupe window), so an id older than the window is forgotten whether or not
/// it was pruned yet: pruning is lazy (amortized, on growth) and never changes results.
///
/// Owned by one engine, touched by its thread only: its properties skip the dynamic exclusivity check
/// (`@exclusivity(unchecked)`), which cost a thread-local lookup per access on every event of a busy contact.
final class SeenTable {
    /// (id, event time) pairs side by side: a lookup touches one cache line, not one in each of two arrays.
    @exclusivity(unchecked) private var slots: [(key: UInt64, time: EventTime)]
    @exclusivity(unchecked) private(set) var count = 0
    @exclusivity(unchecked) private var cutoffHint: EventTime = .min

    init(capacity: Int = 256) {
        var c = 64
        while c < capacity * 2 { c <<= 1 }
        slots = Array(repeating: (0, 0), count: c)
    }

    /// 0 marks an empty slot.
    @inline(__always) private static func key(_ hash: UInt64) -> UInt64 { hash == 0 ? 1 : hash }

    @inline(__always) private func slot(of k: UInt64) -> Int {
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: k ^ (k >> 29)) & mask
        while slots[i].key != 0 && slots[i].key != k { i = (i + 1) & mask }
        return i
    }

    @inline(__always) func contains(_ hash: UInt64, cutoff: EventTime) -> Bool {
        let i = slot(of: Self.key(hash))
        return slots[i].key != 0 && slots[i].time >= cutoff
    }

    func insert(_ hash: UInt64, at time: EventTime) {
        let k = Self.key(hash)
        let i = slot(of: k)
        if slots[i].key == k {
            if slots[i].time < time { slots[i].time = time }
            return
        }
        slots[i] = (k, time)
        count += 1
        if count * 4 > slots.count * 3 { rebuild(cutoff: cutoffHint) }
    }

    /// Remembers the cutoff; entries older than it are dropped at the next growth.
    func prune(cutoff: EventTime) { cutoffHint = cutoff }

    private func rebuild(cutoff: EventTime) {
        let live = slots.filter { $0.key != 0 && $0.time >= cutoff }
        var c = 64
        while c < live.count * 4 { c <<= 1 }   // ≤ 25 % full after a rebuild
        slots = Array(repeating: (0, 0), count: c)
        count = 0
        for e in live {
            slots[slot(of: e.key)] = e
            count += 1
        }
    }

    var approximateBytes: Int { 64 + slots.count * 16 + 48 }

    /// Entries in canonical order (event time, hash).
    var sortedEntries: [(hash: UInt64, time: EventTime)] {
        var all: [(hash: UInt64, time: EventTime)] = []
        for e in slots where e.key != 0 { all.append((e.key, e.time)) }
        return all.sorted { ($0.time, $0.hash) < ($1.time, $1.hash) }
    }
}
