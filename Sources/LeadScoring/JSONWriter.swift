/// Appends JSON text to a byte buffer, with the exact number and time formats of CONTRACTS §3–§4.
///
/// Hand-written (no Foundation) because records are built on the hot path and their bytes must be
/// identical across runs and machines: keys are written in the caller's order, numbers are rounded to
/// 6 decimals and printed in plain positional notation, times are ISO-8601 UTC truncated to milliseconds.
///
/// The text is written into a buffer of the writer's own (no `Array` on the way: an `append(contentsOf:)` per
/// key, string and number cost ~2 500 instructions per record, about a fifth of all the records' work) and copied
/// out once, by `bytes`. Non-copyable, so that two writers never share that buffer.
public struct JSONWriter: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private var count = 0
    private var capacity: Int

    public init(capacity: Int = 512) {
        self.capacity = max(16, capacity)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// The text written so far.
    public var bytes: [UInt8] { [UInt8](UnsafeBufferPointer(start: base, count: count)) }

    /// Room for `n` more bytes.
    @inline(__always) private mutating func reserve(_ n: Int) {
        if count + n > capacity { grow(count + n) }
    }

    @inline(never) private mutating func grow(_ need: Int) {
        let c = max(need, 2 * capacity)
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: c)
        p.moveInitialize(from: base, count: count)
        base.deallocate()
        base = p
        capacity = c
    }

    @inline(__always) private mutating func append(_ p: UnsafeRawPointer, _ n: Int) {
        reserve(n)
        UnsafeMutableRawPointer(base + count).copyMemory(from: p, byteCount: n)
        count += n
    }

    @inline(__always) public mutating func raw(_ s: StaticString) {
        append(s.utf8Start, s.utf8CodeUnitCount)
    }

    @inline(__always) public mutating func byte(_ b: UInt8) {
        reserve(1)
        base[count] = b
        count += 1
    }

    /// A JSON string literal: `"`, `\` and control characters escaped (`\u00XX`); other UTF-8 bytes as is.
    public mutating func string(_ s: String) {
        withUTF8Bytes(s) { buf in
            // Most strings (ids, names, stages) need no escape: one bulk copy.
            if !JSONWriter.needsEscape(buf) {
                reserve(buf.count + 2)
                base[count] = 0x22
                if let p = buf.baseAddress { UnsafeMutableRawPointer(base + count + 1).copyMemory(from: p, byteCount: buf.count) }
                base[count + 1 + buf.count] = 0x22
                count += buf.count + 2
                return
            }
            byte(0x22)
            for b in buf {
                switch b {
                case 0x22: byte(0x5C); byte(0x22)
                case 0x5C: byte(0x5C); byte(0x5C)
                case 0x00..<0x20:
                    byte(0x5C); byte(0x75); byte(0x30); byte(0x30)
                    byte(JSONWriter.hex[Int(b >> 4)]); byte(JSONWriter.hex[Int(b & 0xF)])
                default: byte(b)
                }
            }
            byte(0x22)
        }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Whether some byte is `"`, `\` or a control character, eight bytes at a time (a record writes a dozen
    /// strings, almost never with one of those).
    @inline(__always) static func needsEscape(_ b: UnsafeRawBufferPointer) -> Bool {
        guard let p = b.baseAddress else { return false }
        let n = b.count
        var i = 0
        while i + 8 <= n {
            // The scanner's tests for the same three kinds of byte (a flag is set iff such a byte exists).
            let w = (p + i).loadUnaligned(as: UInt64.self)
            if JSONScanner.hasZeroByte(w ^ 0x2222_2222_2222_2222) | JSONScanner.hasZeroByte(w ^ 0x5C5C_5C5C_5C5C_5C5C)
                | JSONScanner.hasByteBelow0x20(w) != 0 {
                return true
            }
            i += 8
        }
        while i < n {
            let c = p.load(fromByteOffset: i, as: UInt8.self)
            if c == 0x22 || c == 0x5C || c < 0x20 { return true }
            i += 1
        }
        return false
    }

    /// `"key":` — keys are ASCII constants.
    @inline(__always) public mutating func key(_ k: StaticString) {
        byte(0x22)
        raw(k)
        byte(0x22)
        byte(0x3A)
    }

    /// A number rounded to 6 decimals, shortest positional form: 55.5, 55, -10.25, 0.000001; never "-0".
    public mutating func number(_ x: Double) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { b in
            if let k = JSONWriter.writeNumber(x, into: b) {
                append(b.baseAddress! + k, 32 - k)
            } else {
                var text: [UInt8] = []
                JSONWriter.appendNumber(x, to: &text)
                text.withUnsafeBytes { append($0.baseAddress!, $0.count) }
            }
        }
    }

    public mutating func integer(_ v: Int64) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { d in
            let k = JSONWriter.writeUnsigned(v.magnitude, into: d)
            if v < 0 { byte(0x2D) }
            append(d.baseAddress! + k, 20 - k)
        }
    }

    /// ISO-8601 UTC with milliseconds, truncated: 2026-01-02T03:04:05.678Z.
    public mutating func time(_ t: EventTime) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 42) { b in
            b[0] = 0x22
            let n = JSONWriter.writeTime(t, into: UnsafeMutableBufferPointer(rebasing: b[1...]))
            b[n + 1] = 0x22
            append(b.baseAddress!, n + 2)
        }
    }

    /// The digits of `v`, written backwards so that they end at `d.count`; returns where they start.
    static func writeUnsigned(_ v: UInt64, into d: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var k = d.count
        var v = v
        repeat { k -= 1; d[k] = UInt8(v % 10) + 0x30; v /= 10 } while v > 0
        return k
    }

    /// Rounds to 6 decimals (half away from zero on the scaled value).
    @inline(__always) public static func round6(_ x: Double) -> Double {
        let r = (x * 1e6).rounded() / 1e6
        return r == 0 ? 0 : r
    }

    static func appendNumber(_ x: Double, to bytes: inout [UInt8]) {
        let done: Bool = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { b in
            guard let k = writeNumber(x, into: b) else { return false }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: b[k..<32]))
            return true
        }
        if done { return }
        // |x| ≥ 9e12, beyond Int64 once scaled: the integer part digit by digit, then the fraction. A Double
        // this large has at most 10 fraction bits, so `fraction × 1e6` is exact and below 1e6 (no carry).
        let whole = x.rounded(.towardZero)
        if x < 0 { bytes.append(0x2D) }
        bytes.append(contentsOf: String(format: whole.magnitude).utf8)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 8) { b in
            var k = 8
            writeFraction(UInt64(((x - whole).magnitude * 1e6).rounded()), into: b, before: &k)
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: b[k..<8]))
        }
    }

    /// The usual number text (|x| < 9e12, or not finite: "0"), written backwards so that it ends at `b[32]`
    /// (`b` holds 32 bytes); returns where it starts. nil for larger magnitudes (`appendNumber` writes those).
    @inline(__always) static func writeNumber(_ x: Double, into b: UnsafeMutableBufferPointer<UInt8>) -> Int? {
        guard x.isFinite else { b[31] = 0x30; return 31 }   // never produced by the engine
        let scaled = (x * 1e6).rounded()
        if scaled.magnitude >= 9.0e18 { return nil }
        let n = Int64(scaled)
        if n == 0 { b[31] = 0x30; return 31 }
        var k = 32
        let m = n.magnitude
        writeFraction(m % 1_000_000, into: b, before: &k)
        var whole = m / 1_000_000
        repeat { k -= 1; b[k] = UInt8(whole % 10) + 0x30; whole /= 10 } while whole > 0
        if n < 0 { k -= 1; b[k] = 0x2D }
        return k
    }

    /// `.` and the millionths `frac` (< 1 000 000) without trailing zeros, written backwards so that they end
    /// just before `b[k]` (`k` moves to their first byte); nothing when `frac` is 0.
    @inline(__always) private static func writeFraction(_ frac: UInt64, into b: UnsafeMutableBufferPointer<UInt8>, before k: inout Int) {
        guard frac != 0 else { return }
        var frac = frac
        var width = 6
        while frac % 10 == 0 { frac /= 10; width -= 1 }
        for _ in 0..<width { k -= 1; b[k] = UInt8(frac % 10) + 0x30; frac /= 10 }   // leading zeros included
        k -= 1; b[k] = 0x2E
    }

    static func appendTime(_ t: EventTime, to bytes: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 40) { b in
            let n = writeTime(t, into: b)
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: b[0..<n]))
        }
    }

    /// The time text at the start of `b` (≥ 40 bytes); returns its length.
    static func writeTime(_ t: EventTime, into b: UnsafeMutableBufferPointer<UInt8>) -> Int {
        let ms = t >= 0 ? t / 1000 : (t - 999) / 1000          // floor to milliseconds
        var days = ms >= 0 ? ms / 86_400_000 : (ms - 86_399_999) / 86_400_000
        let msOfDay = ms - days * 86_400_000
        // civil from days (Howard Hinnant's algorithm)
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let doe = days - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        var y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        if m <= 2 { y += 1 }
        // Years outside 0000–9999 (not reachable from ISO-8601 input) get a sign and as many digits as they need.
        var k = 0
        func put(_ v: Int64, _ w: Int) {
            var v = v
            var j = k + w - 1
            while j >= k { b[j] = UInt8(v % 10) + 0x30; v /= 10; j -= 1 }
            k += w
        }
        func sep(_ c: UInt8) { b[k] = c; k += 1 }
        if y < 0 { sep(0x2D) }
        let year = y.magnitude
        var width = 4
        var limit: UInt64 = 10_000
        while year >= limit && width < 19 { width += 1; limit *= 10 }
        put(Int64(year), width); sep(0x2D); put(m, 2); sep(0x2D); put(d, 2); sep(0x54)
        put(msOfDay / 3_600_000, 2); sep(0x3A)
        put(msOfDay / 60_000 % 60, 2); sep(0x3A)
        put(msOfDay / 1000 % 60, 2); sep(0x2E)
        put(msOfDay % 1000, 3); sep(0x5A)
        return k
    }

    /// The `at` text of a record, for logs and reports.
    public static func formatTime(_ t: EventTime) -> String {
        var b: [UInt8] = []
        appendTime(t, to: &b)
        return String(decoding: b, as: UTF8.self)
    }

    /// The number text of a record, for reports and tests.
    public static func formatNumber(_ x: Double) -> String {
        var b: [UInt8] = []
        appendNumber(x, to: &b)
        return String(decoding: b, as: UTF8.self)
    }
}

private extension String {
    /// Integer digits of a huge finite non-negative whole Double, without exponent notation.
    init(format whole: Double) {
        var digits: [UInt8] = []
        var v = whole
        repeat {
            let q = (v / 10).rounded(.towardZero)
            let r = Int(v - q * 10)
            digits.append(UInt8(Swift.max(0, Swift.min(9, r))) + 0x30)
            v = q
        } while v >= 1
        self = String(decoding: digits.reversed(), as: UTF8.self)
    }
}

/// FNV-1a 64-bit of a string's UTF-8 bytes: stable across runs and machines (unlike Swift's `Hasher`),
/// so stored message-id hashes survive checkpoints.
@usableFromInline
func engineFNV1a64(_ s: String) -> UInt64 {
    withUTF8Bytes(s) { engineFNV1a64($0) }
}

/// The same on UTF-8 bytes. (Byte by byte: eight bytes per load, unpacked with shifts, measured 19 instructions
/// per event more on the bench's ~10-byte message ids.)
@inline(__always)
func engineFNV1a64(_ buf: UnsafeRawBufferPointer) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in buf { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
    return h
}

/// Hash of a contact id for the in-memory contact index only (never stored): 8 bytes per step, so cheaper than
/// FNV-1a on the ids' typical 10–40 bytes. Deterministic (no per-process seed), well mixed in the low bits.
@inline(__always)
func indexHash(_ s: String) -> UInt64 {
    withUTF8Bytes(s) { indexHash($0) }
}

/// The same on UTF-8 bytes.
@inline(__always)
func indexHash(_ buf: UnsafeRawBufferPointer) -> UInt64 {
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(buf.count)
    var i = 0
    let n = buf.count
    while i + 8 <= n {
        let w = (buf.baseAddress! + i).loadUnaligned(as: UInt64.self)
        h = (h ^ w) &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 31
        i += 8
    }
    // The last n − i (< 8) bytes as a little-endian word, high bytes zero — without a loop over them: the
    // buffer's last 8 bytes shifted down when it has 8, else 4-, 2- and 1-byte loads.
    var tail: UInt64 = 0
    let r = n - i
    if r > 0, let p = buf.baseAddress {
        if n >= 8 {
            tail = (p + n - 8).loadUnaligned(as: UInt64.self) >> UInt64(64 - 8 * r)
        } else {
            var k = 0
            if r & 4 != 0 { tail = UInt64(p.loadUnaligned(as: UInt32.self)); k = 4 }
            if r & 2 != 0 { tail |= UInt64((p + k).loadUnaligned(as: UInt16.self)) << UInt64(8 * k); k += 2 }
            if r & 1 != 0 { tail |= UInt64(p.load(fromByteOffset: k, as: UInt8.self)) << UInt64(8 * k) }
        }
    }
    h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
    h ^= h >> 29
    h = h &* 0xBF58_476D_1CE4_E5B9
    return h ^ (h >> 32)
}
