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
        let h: UInt64
        switch value {
        case .string(let s): h = indexHash(s)
        case .number(let d): h = (d == 0 ? 0 : d.bitPattern) &* 0x9E37_79B9_7F4A_7C15
        case .bool(let b): h = b ? 0x51 : 0x52
        case .null: h = 0x53
        case .other: h = 0x54
        }
        return mix(trait, h)
    }

    /// The hash of (trait, a string value with this UTF-8): the same as `hash(_:_:)` of its String.
    @inline(__always) static func hash(_ trait: Int, utf8: UnsafeRawBufferPointer) -> UInt64 { mix(trait, indexHash(utf8)) }

    @inline(__always) private static func mix(_ trait: Int, _ value: UInt64) -> UInt64 {
        let h = value ^ (UInt64(truncatingIfNeeded: trait) &* 0xBF58_476D_1CE4_E5B9)
        return h ^ (h >> 29)
    }

    /// The bits of (trait, a string value with this UTF-8), without making its String.
    @inline(__always) func find(_ trait: Int, utf8: UnsafeRawBufferPointer, hash: UInt64) -> TraitBits? {
        table.find(hash: hash) { k in
            guard k.trait == Int32(trait), case .string(let s) = k.value else { return false }
            return utf8Equals(s, utf8)
        }
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
