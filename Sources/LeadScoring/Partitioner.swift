/// The partition of a key, exactly as librdkafka's default partitioner (`consistent_random`) picks it:
/// CRC-32 (IEEE, as zlib) of the key bytes modulo the partition count. `replay --partitions N` and the bench
/// use it to split a stream the way the daemon's input is split.
public enum Partitioner {
    /// librdkafka sends empty keys to a random partition; offline replay needs a fixed one: partition 0.
    public static func partition(key: String, count: Int) -> Int {
        precondition(count > 0)
        if key.isEmpty { return 0 }
        return Int(crc32(key.utf8) % UInt32(count))
    }

    public static func crc32<S: Sequence>(_ bytes: S) -> UInt32 where S.Element == UInt8 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    private static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }
}
