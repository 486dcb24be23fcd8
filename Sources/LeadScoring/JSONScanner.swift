/// A single-pass JSON reader over raw bytes: validates as it goes, decodes only the strings asked for and
/// skips everything else without allocating.
struct JSONScanner {
    struct Malformed: Error {}

    let bytes: UnsafeRawBufferPointer
    var i = 0
    static let maxDepth = 64

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var atEnd: Bool { i >= bytes.count }

    @inline(__always) mutating func skipWhitespace() {
        while i < bytes.count {
            let c = bytes[i]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { i += 1 } else { return }
        }
    }

    @inline(__always) func peek() -> UInt8? { i < bytes.count ? bytes[i] : nil }

    /// The byte `c` at the cursor, after any whitespace. Inlined for the common case (`c` right there: the
    /// `:` after a key), whitespace out of line.
    @inline(__always) mutating func expect(_ c: UInt8) throws(Malformed) {
        if i < bytes.count, bytes[i] == c { i += 1; return }
        try expectAfterWhitespace(c)
    }

    @inline(never) mutating func expectAfterWhitespace(_ c: UInt8) throws(Malformed) {
        skipWhitespace()
        guard i < bytes.count, bytes[i] == c else { throw Malformed() }
        i += 1
    }

    /// Reads `"…"` at the cursor; returns the raw range inside the quotes, whether it has escapes, and whether
    /// every byte of it is ASCII (so a plain string's bytes are its UTF-8 as they are: no later check).
    ///
    /// Inlined (a dozen strings per event): the common case — no escape before the closing quote, which is not
    /// within the buffer's last 8 bytes — is the word loop alone; everything else is `scanStringRest`.
    @inline(__always) mutating func scanString() throws(Malformed) -> (Range<Int>, escaped: Bool, ascii: Bool) {
        guard i < bytes.count, bytes[i] == 0x22 else { throw Malformed() }
        let start = i + 1
        var j = start
        var high: UInt64 = 0     // the bytes read so far, OR-ed: bit 7 of a byte set = not ASCII
        // Eight bytes at a time while none is a quote, a backslash or a control character (SWAR: a byte
        // equal to x shows up as a zero byte of w ^ x; `hasByteBelow0x20` finds control characters). The
        // lowest flagged byte is exact, so the cursor jumps straight to it (most strings are short: this
        // saves the byte loop over the rest of the last word).
        if let base = bytes.baseAddress {
            let n = bytes.count
            while j + 8 <= n {
                let w = UInt64(littleEndian: (base + j).loadUnaligned(as: UInt64.self))
                let special = Self.hasZeroByte(w ^ 0x2222_2222_2222_2222) | Self.hasZeroByte(w ^ 0x5C5C_5C5C_5C5C_5C5C)
                    | Self.hasByteBelow0x20(w)
                if special != 0 {
                    let k = special.trailingZeroBitCount >> 3
                    high |= w & ((1 &<< UInt64(8 * k)) &- 1)          // the k bytes before the flagged one
                    j += k
                    if base.load(fromByteOffset: j, as: UInt8.self) == 0x22 {
                        i = j + 1
                        return (start..<j, false, high & 0x8080_8080_8080_8080 == 0)
                    }
                    break
                }
                high |= w
                j += 8
            }
        }
        i = j
        return try scanStringRest(from: start, ascii: high & 0x8080_8080_8080_8080 == 0)
    }

    /// The rest of a string from the cursor byte by byte (escapes, control characters, the buffer's end).
    @inline(never) mutating func scanStringRest(from start: Int, ascii: Bool) throws(Malformed) -> (Range<Int>, escaped: Bool, ascii: Bool) {
        var escaped = false
        var high: UInt8 = ascii ? 0 : 0x80
        while i < bytes.count {
            let c = bytes[i]
            if c == 0x22 { let r = start..<i; i += 1; return (r, escaped, high & 0x80 == 0) }
            high |= c
            if c == 0x5C {
                escaped = true
                i += 1
                guard i < bytes.count else { throw Malformed() }
                let e = bytes[i]
                if e == 0x75 {   // \uXXXX
                    guard i + 4 < bytes.count else { throw Malformed() }
                    for k in 1...4 where Self.hex(bytes[i + k]) == nil { throw Malformed() }
                    i += 5
                    continue
                }
                switch e {
                case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74: break
                default: throw Malformed()
                }
                i += 1
                continue
            }
            if c < 0x20 { throw Malformed() }
            i += 1
        }
        throw Malformed()
    }

    @inline(__always) static func hasZeroByte(_ v: UInt64) -> UInt64 {
        (v &- 0x0101_0101_0101_0101) & ~v & 0x8080_8080_8080_8080
    }

    @inline(__always) static func hasByteBelow0x20(_ v: UInt64) -> UInt64 {
        (v &- 0x2020_2020_2020_2020) & ~v & 0x8080_8080_8080_8080
    }

    /// Up to 8 bytes at `k` as a little-endian word, missing bytes zero: one load to compare a short key with
    /// a constant (`SegmentDecoder`'s keys and types).
    @inline(__always) func word(at k: Int, count: Int) -> UInt64 {
        let n = min(count, 8)
        if k + 8 <= bytes.count, let base = bytes.baseAddress {
            let w = UInt64(littleEndian: (base + k).loadUnaligned(as: UInt64.self))
            return n == 8 ? w : w & ((1 << UInt64(8 * n)) - 1)
        }
        var w: UInt64 = 0
        for j in 0..<n { w |= UInt64(bytes[k + j]) << UInt64(8 * j) }
        return w
    }

    /// Skips any JSON value.
    mutating func skipValue(depth: Int = 0) throws(Malformed) {
        guard depth < Self.maxDepth else { throw Malformed() }
        skipWhitespace()
        guard let c = peek() else { throw Malformed() }
        switch c {
        case 0x22: _ = try scanString()
        case 0x7B:
            i += 1
            skipWhitespace()
            if peek() == 0x7D { i += 1; return }
            while true {
                skipWhitespace()
                _ = try scanString()
                try expect(0x3A)
                try skipValue(depth: depth + 1)
                skipWhitespace()
                guard let n = peek() else { throw Malformed() }
                i += 1
                if n == 0x7D { return }
                guard n == 0x2C else { throw Malformed() }
            }
        case 0x5B:
            i += 1
            skipWhitespace()
            if peek() == 0x5D { i += 1; return }
            while true {
                try skipValue(depth: depth + 1)
                skipWhitespace()
                guard let n = peek() else { throw Malformed() }
                i += 1
                if n == 0x5D { return }
                guard n == 0x2C else { throw Malformed() }
            }
        case 0x74: try literal("true")
        case 0x66: try literal("false")
        case 0x6E: try literal("null")
        default: _ = try scanNumber()
        }
    }

    mutating func literal(_ word: StaticString) throws(Malformed) {
        let n = word.utf8CodeUnitCount
        guard i + n <= bytes.count else { throw Malformed() }
        for j in 0..<n where bytes[i + j] != word.utf8Start[j] { throw Malformed() }
        i += n
    }

    /// Validates a JSON number at the cursor; returns its raw range.
    mutating func scanNumber() throws(Malformed) -> Range<Int> {
        let start = i
        if peek() == 0x2D { i += 1 }
        guard let d = peek(), d >= 0x30 && d <= 0x39 else { throw Malformed() }
        if d == 0x30 { i += 1 } else { while let c = peek(), c >= 0x30 && c <= 0x39 { i += 1 } }
        if peek() == 0x2E {
            i += 1
            guard let c = peek(), c >= 0x30 && c <= 0x39 else { throw Malformed() }
            while let c = peek(), c >= 0x30 && c <= 0x39 { i += 1 }
        }
        if let e = peek(), e == 0x65 || e == 0x45 {
            i += 1
            if let s = peek(), s == 0x2B || s == 0x2D { i += 1 }
            guard let c = peek(), c >= 0x30 && c <= 0x39 else { throw Malformed() }
            while let c = peek(), c >= 0x30 && c <= 0x39 { i += 1 }
        }
        return start..<i
    }

    static func hex(_ c: UInt8) -> UInt32? {
        switch c {
        case 0x30...0x39: UInt32(c - 0x30)
        case 0x41...0x46: UInt32(c - 0x41 + 10)
        case 0x61...0x66: UInt32(c - 0x61 + 10)
        default: nil
        }
    }

    /// Decodes escapes of an already validated string body. Lone surrogates become U+FFFD.
    static func unescape(_ s: UnsafeRawBufferPointer) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.count)
        var j = 0
        func u4(_ at: Int) -> UInt32 {
            (hex(s[at])! << 12) | (hex(s[at + 1])! << 8) | (hex(s[at + 2])! << 4) | hex(s[at + 3])!
        }
        func append(_ scalar: UInt32) {
            let u = Unicode.Scalar(scalar) ?? "\u{FFFD}"
            out.append(contentsOf: Array(String(Character(u)).utf8))
        }
        while j < s.count {
            let c = s[j]
            guard c == 0x5C else { out.append(c); j += 1; continue }
            let e = s[j + 1]
            j += 2
            switch e {
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x75:
                var v = u4(j)
                j += 4
                if v >= 0xD800 && v < 0xDC00, j + 6 <= s.count, s[j] == 0x5C, s[j + 1] == 0x75 {
                    let lo = u4(j + 2)
                    if lo >= 0xDC00 && lo < 0xE000 {
                        v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00)
                        j += 6
                    }
                }
                append(v)
            default: out.append(e)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
