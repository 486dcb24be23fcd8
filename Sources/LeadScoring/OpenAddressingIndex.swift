/// The index of `HashedTable` and `ByteKeyTable`: slot → entry number (−1 empty), linear probing from the
/// hash's low bits, kept at most half full by its owner.
enum OpenAddressingIndex {
    /// A fresh index of `size` slots (a power of two) for entries with these hashes, numbered in order.
    static func build(size: Int, hashes: some Sequence<UInt64>) -> [Int32] {
        var index = [Int32](repeating: -1, count: size)
        let mask = size - 1
        for (n, h) in hashes.enumerated() {
            var i = Int(truncatingIfNeeded: h) & mask
            while index[i] >= 0 { i = (i + 1) & mask }
            index[i] = Int32(n)
        }
        return index
    }
}
