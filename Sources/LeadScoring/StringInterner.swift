/// Decoded texts that repeat — event names, page paths, trait names and values like titles and industries —
/// turned into Strings once and then shared: a repeat costs a hash and a compare instead of an allocation,
/// a UTF-8 validation and a free. Texts of up to 15 bytes are skipped (Swift keeps them inline: nothing to save).
///
/// One per decoding thread (not thread-safe). Bounded: cleared when half full, so unique texts (e-mail
/// addresses) cannot make it grow with the stream.
public final class StringInterner {
    private var hashes: [UInt64]
    private var strings: [String?]
    private var count = 0

    public init(capacity: Int = 4096) {
        var c = 64
        while c < capacity { c <<= 1 }
        hashes = Array(repeating: 0, count: c)
        strings = Array(repeating: nil, count: c)
    }

    /// The String of these UTF-8 bytes (already validated JSON string content without escapes).
    public func string(_ raw: UnsafeRawBufferPointer) -> String {
        if raw.count <= 15 { return String(decoding: raw, as: UTF8.self) }
        let h = engineFNV1a64(raw)
        let mask = hashes.count - 1
        var i = Int(truncatingIfNeeded: h ^ (h >> 32)) & mask
        while let s = strings[i] {
            if hashes[i] == h, utf8Equals(s, raw) { return s }
            i = (i + 1) & mask
        }
        let s = String(decoding: raw, as: UTF8.self)
        if count * 2 >= hashes.count {
            for k in strings.indices { strings[k] = nil }
            count = 0
            i = Int(truncatingIfNeeded: h ^ (h >> 32)) & mask
        }
        hashes[i] = h
        strings[i] = s
        count += 1
        return s
    }
}
