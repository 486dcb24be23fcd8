/// Which trait tests a (trait, value) pair satisfies, remembered per distinct pair: titles, industries and
/// head counts repeat, so the rules' regexes and comparisons run once per value, not once per event.
///
/// A `HashedTable` on a cheap deterministic hash (FNV-1a over a string's bytes, a mix of a number's bits):
/// `Dictionary` would hash every lookup with SipHash, which showed in profiles. Cleared when it reaches
/// `limit` entries (e-mail addresses never repeat; the cache must not grow with the contacts).
struct TraitValueCache {
    struct Key: Equatable {
        var trait: Int32
        var value: TraitValue
    }

    private var table = HashedTable<Key, TraitBits>()
    let limit: Int

    init(limit: Int = 65_536) { self.limit = limit }

    @inline(__always) static func hash(_ trait: Int, _ value: TraitValue) -> UInt64 {
        var h: UInt64
        switch value {
        case .string(let s): h = indexHash(s)
        case .number(let d): h = (d == 0 ? 0 : d.bitPattern) &* 0x9E37_79B9_7F4A_7C15
        case .bool(let b): h = b ? 0x51 : 0x52
        case .null: h = 0x53
        case .other: h = 0x54
        }
        h ^= UInt64(truncatingIfNeeded: trait) &* 0xBF58_476D_1CE4_E5B9
        return h ^ (h >> 29)
    }

    @inline(__always) func find(_ trait: Int, _ value: TraitValue, hash: UInt64) -> TraitBits? {
        table.find(Key(trait: Int32(trait), value: value), hash: hash)
    }

    /// Inserts a pair `find` did not have.
    mutating func insert(_ trait: Int, _ value: TraitValue, hash: UInt64, bits: TraitBits) {
        if table.count >= limit { table.removeAll() }
        table.set(Key(trait: Int32(trait), value: value), hash: hash, bits)
    }
}
