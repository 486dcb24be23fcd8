/// A small open-addressing hash table whose caller supplies each key's 64-bit hash — a cheap deterministic one
/// (a mix of bits for trait values and contact indexes) instead of `Hasher`'s per-lookup SipHash. The strings
/// of the hot path (event and trait names, page paths) have `ByteKeyTable`.
struct HashedTable<Key: Equatable, Value> {
    private var entries: [(key: Key, hash: UInt64, value: Value)] = []
    private var index: [Int32] = Array(repeating: -1, count: 16)

    var count: Int { entries.count }

    @inline(__always) func find(_ key: Key, hash: UInt64) -> Value? {
        find(hash: hash) { $0 == key }
    }

    /// The value of the key with this hash that `matches` (a key compared without being made, e.g. bytes).
    @inline(__always) func find(hash: UInt64, where matches: (Key) -> Bool) -> Value? {
        let mask = index.count - 1
        var i = Int(truncatingIfNeeded: hash) & mask
        while true {
            let e = index[i]
            if e < 0 { return nil }
            if entries[Int(e)].hash == hash && matches(entries[Int(e)].key) { return entries[Int(e)].value }
            i = (i + 1) & mask
        }
    }

    /// Inserts or replaces.
    mutating func set(_ key: Key, hash: UInt64, _ value: Value) {
        let mask = index.count - 1
        var i = Int(truncatingIfNeeded: hash) & mask
        while index[i] >= 0 {
            let e = Int(index[i])
            if entries[e].hash == hash && entries[e].key == key { entries[e].value = value; return }
            i = (i + 1) & mask
        }
        entries.append((key, hash, value))
        index[i] = Int32(entries.count - 1)
        if entries.count * 2 > index.count { grow() }
    }

    func forEachValue(_ body: (Value) -> Void) {
        for e in entries { body(e.value) }
    }

    mutating func removeAll() {
        entries.removeAll(keepingCapacity: true)
        for i in index.indices { index[i] = -1 }
    }

    private mutating func grow() {
        index = OpenAddressingIndex.build(size: index.count * 2, hashes: entries.lazy.map(\.hash))
    }
}
