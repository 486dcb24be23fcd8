/// Which trait tests a (trait, value) pair satisfies, remembered per distinct pair: titles, industries and
/// head counts repeat, so the rules' regexes and comparisons run once per value, not once per event.
///
/// Open addressing on a cheap deterministic hash (FNV-1a over a string's bytes, a mix of a number's bits):
/// `Dictionary` would hash every lookup with SipHash, which showed in profiles. Cleared when it reaches
/// `limit` entries (e-mail addresses never repeat; the cache must not grow with the contacts).
struct TraitValueCache {
    private var entries: [(trait: Int32, value: TraitValue, hash: UInt64, bits: TraitBits)] = []
    private var index: [Int32] = Array(repeating: -1, count: 64)
    let limit: Int

    init(limit: Int = 65_536) { self.limit = limit }

    var count: Int { entries.count }

    @inline(__always) static func hash(_ trait: Int, _ value: TraitValue) -> UInt64 {
        var h: UInt64
        switch value {
        case .string(let s): h = engineFNV1a64(s)
        case .number(let d): h = (d == 0 ? 0 : d.bitPattern) &* 0x9E37_79B9_7F4A_7C15
        case .bool(let b): h = b ? 0x51 : 0x52
        case .null: h = 0x53
        case .other: h = 0x54
        }
        h ^= UInt64(truncatingIfNeeded: trait) &* 0xBF58_476D_1CE4_E5B9
        return h ^ (h >> 29)
    }

    @inline(__always) func find(_ trait: Int, _ value: TraitValue, hash: UInt64) -> TraitBits? {
        let mask = index.count - 1
        var i = Int(truncatingIfNeeded: hash) & mask
        while true {
            let e = index[i]
            if e < 0 { return nil }
            let entry = entries[Int(e)]
            if entry.hash == hash && entry.trait == Int32(trait) && entry.value == value { return entry.bits }
            i = (i + 1) & mask
        }
    }

    /// Inserts a pair `find` did not have.
    mutating func insert(_ trait: Int, _ value: TraitValue, hash: UInt64, bits: TraitBits) {
        if entries.count >= limit {
            entries.removeAll(keepingCapacity: true)
            for i in index.indices { index[i] = -1 }
        }
        if (entries.count + 1) * 2 > index.count { grow() }
        let mask = index.count - 1
        var i = Int(truncatingIfNeeded: hash) & mask
        while index[i] >= 0 { i = (i + 1) & mask }
        entries.append((Int32(trait), value, hash, bits))
        index[i] = Int32(entries.count - 1)
    }

    private mutating func grow() {
        index = Array(repeating: -1, count: index.count * 2)
        let mask = index.count - 1
        for (n, e) in entries.enumerated() {
            var i = Int(truncatingIfNeeded: e.hash) & mask
            while index[i] >= 0 { i = (i + 1) & mask }
            index[i] = Int32(n)
        }
    }
}
