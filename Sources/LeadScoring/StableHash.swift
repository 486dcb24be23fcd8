/// Hashes that must not change between processes or machines (checkpointed message ids), unlike `Hasher`.
public enum StableHash {
    /// FNV-1a, 64 bits.
    public static func fnv1a64(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return h
    }
}
