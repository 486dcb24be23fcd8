/// A hash table keyed by byte strings (event names, trait names, page paths as UTF-8), the keys laid end to end
/// in one pool.
///
/// Why not `HashedTable<String, …>`: a lookup there reads the stored `String` (a retain and a release when it
/// is longer than 15 bytes, then its UTF-8 view) — about 120 instructions per lookup, several lookups per
/// event. Here a lookup is an index probe and one `bytesEqual`. Keys compare as bytes, exactly as the engine's
/// lookups by an event's bytes always did (no canonical equivalence).
struct ByteKeyTable<Value> {
    private struct Entry {
        var hash: UInt64
        var offset: Int32
        var count: Int32
        var value: Value
    }

    private var entries: [Entry] = []
    /// Open addressing over `entries` (−1 = empty), at most half full.
    private var index: [Int32] = Array(repeating: -1, count: 16)
    private var pool: [UInt8] = []

    var count: Int { entries.count }

    @inline(__always) func find(utf8 key: UnsafeRawBufferPointer) -> Value? { find(utf8: key, hash: indexHash(key)) }

    /// The value of the key whose bytes are `key` (`hash`: its `indexHash`).
    @inline(__always) func find(utf8 key: UnsafeRawBufferPointer, hash: UInt64) -> Value? {
        index.withUnsafeBufferPointer { slots in
            entries.withUnsafeBufferPointer { entries in
                pool.withUnsafeBytes { pool in
                    let mask = slots.count - 1
                    var i = Int(truncatingIfNeeded: hash) & mask
                    while true {
                        let e = slots[i]
                        if e < 0 { return nil }
                        let entry = entries[Int(e)]
                        if entry.hash == hash, bytesEqual(Self.key(of: entry, in: pool), key) { return entry.value }
                        i = (i + 1) & mask
                    }
                }
            }
        }
    }

    /// Inserts or replaces the value of `key`'s UTF-8.
    mutating func set(_ key: String, _ value: Value) {
        withUTF8Bytes(key) { set(utf8: $0, hash: indexHash($0), value) }
    }

    /// Inserts or replaces (`hash`: the key's `indexHash`).
    mutating func set(utf8 key: UnsafeRawBufferPointer, hash: UInt64, _ value: Value) {
        let mask = index.count - 1
        var i = Int(truncatingIfNeeded: hash) & mask
        while index[i] >= 0 {
            let e = Int(index[i])
            if entries[e].hash == hash, keyEquals(e, key) {
                entries[e].value = value
                return
            }
            i = (i + 1) & mask
        }
        entries.append(Entry(hash: hash, offset: Int32(pool.count), count: Int32(key.count), value: value))
        pool.append(contentsOf: key)
        index[i] = Int32(entries.count - 1)
        if entries.count * 2 > index.count { grow() }
    }

    mutating func removeAll() {
        entries.removeAll(keepingCapacity: true)
        pool.removeAll(keepingCapacity: true)
        for i in index.indices { index[i] = -1 }
    }

    private func keyEquals(_ e: Int, _ key: UnsafeRawBufferPointer) -> Bool {
        pool.withUnsafeBytes { bytesEqual(Self.key(of: entries[e], in: $0), key) }
    }

    /// An entry's key bytes in the pool.
    @inline(__always) private static func key(of entry: Entry, in pool: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: pool[Int(entry.offset)..<Int(entry.offset + entry.count)])
    }

    private mutating func grow() {
        index = OpenAddressingIndex.build(size: index.count * 2, hashes: entries.lazy.map(\.hash))
    }
}
