/// The partition of a key, exactly as librdkafka's default partitioner (`consistent_random`) picks it:
/// CRC-32 (IEEE, as zlib) of the key bytes modulo the partition count. `replay --partitions N` and the bench
/// use it to split a stream the way the daemon's input is split.
public enum Partitioner {
    /// librdkafka sends empty keys to a random partition; offline replay needs a fixed one: partition 0.
    public static func partition(key: String, count: Int) -> Int {
        withUTF8Bytes(key) { partition(utf8: $0, count: count) }
    }

    /// The same for a key's bytes.
    public static func partition(utf8 key: UnsafeRawBufferPointer, count: Int) -> Int {
        precondition(count > 0)
        if key.isEmpty { return 0 }
        return Int(crc32(key) % UInt32(count))
    }

    /// CRC-32 (IEEE) of any byte sequence; contiguous ones (arrays, slices, UTF-8 views) go through the
    /// slicing-by-8 loop below (checkpoint files are checksummed whole, hundreds of MB at 1 M contacts).
    @inlinable public static func crc32<S: Sequence>(_ bytes: S) -> UInt32 where S.Element == UInt8 {
        if let c = bytes.withContiguousStorageIfAvailable({ crc32(UnsafeRawBufferPointer($0)) }) { return c }
        return Array(bytes).withUnsafeBytes { crc32($0) }
    }

    /// CRC-32 (IEEE) with slicing-by-8: eight table lookups per 8-byte word instead of one per byte
    /// (about 8× the bytewise loop).
    /// `continuing`: the CRC of the bytes before these (0 to start), so a stream can be checksummed in pieces.
    public static func crc32(_ bytes: UnsafeRawBufferPointer, continuing previous: UInt32 = 0) -> UInt32 {
        tables.withUnsafeBufferPointer { t in
            var c: UInt32 = ~previous
            var p = 0
            let n = bytes.count
            while n - p >= 8 {
                let lo = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: p, as: UInt32.self)) ^ c
                let hi = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: p + 4, as: UInt32.self))
                c = t[7 * 256 + Int(lo & 0xFF)] ^ t[6 * 256 + Int((lo >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((lo >> 16) & 0xFF)] ^ t[4 * 256 + Int(lo >> 24)]
                    ^ t[3 * 256 + Int(hi & 0xFF)] ^ t[2 * 256 + Int((hi >> 8) & 0xFF)]
                    ^ t[1 * 256 + Int((hi >> 16) & 0xFF)] ^ t[Int(hi >> 24)]
                p += 8
            }
            while p < n {
                c = t[Int((c ^ UInt32(bytes[p])) & 0xFF)] ^ (c >> 8)
                p += 1
            }
            return c ^ 0xFFFF_FFFF
        }
    }

    /// Table k maps a byte to its CRC contribution k bytes further on; table 0 is the classic bytewise table.
    private static let tables: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for n in 0..<256 {
            var c = UInt32(n)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            t[n] = c
        }
        for k in 1..<8 {
            for n in 0..<256 { let prev = t[(k - 1) * 256 + n]; t[k * 256 + n] = (prev >> 8) ^ t[Int(prev & 0xFF)] }
        }
        return t
    }()
}
