/// ISO-8601 date-times ↔ `EventTime`, without Foundation (the decoder runs per event).
public enum ISO8601 {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM|±HHMM|±HH)`. A time without an offset is rejected:
    /// an event time must be unambiguous. Fractions beyond microseconds are truncated.
    public static func parse<C: Collection>(_ s: C) -> EventTime? where C.Element == UInt8 {
        let bytes = Array(s)
        return bytes.withUnsafeBytes { parse($0) }
    }

    /// The decoder's path: straight from the message buffer, no copy, no allocation.
    public static func parse(_ b: UnsafeRawBufferPointer) -> EventTime? {
        let n = b.count
        var i = 0
        @inline(__always) func digits(_ k: Int) -> Int? {
            guard i + k <= n else { return nil }
            var v = 0
            for j in 0..<k {
                let c = b[i + j]
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            i += k
            return v
        }
        @inline(__always) func expect(_ c: UInt8) -> Bool {
            guard i < n, b[i] == c else { return false }
            i += 1; return true
        }
        let year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int
        if let f = fixedPart(b) {
            (year, month, day, hour, minute, second) = f
            i = 19
        } else {
            guard let y = digits(4), expect(45), let mo = digits(2), expect(45), let d = digits(2) else { return nil }
            guard i < n, b[i] == 84 || b[i] == 116 else { return nil }   // T or t
            i += 1
            guard let h = digits(2), expect(58), let mi = digits(2), expect(58), let sec = digits(2) else { return nil }
            (year, month, day, hour, minute, second) = (y, mo, d, h, mi, sec)
        }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
              hour <= 23, minute <= 59, second <= 59 else { return nil }
        var micros: Int64 = 0
        if i < n, b[i] == 46 {   // .
            i += 1
            var k = 0
            while i < n, b[i] >= 48 && b[i] <= 57 {
                if k < 6 { micros = micros * 10 + Int64(b[i] - 48) }
                k += 1
                i += 1
            }
            guard k > 0 else { return nil }
            for _ in k..<max(k, 6) { micros *= 10 }
        }
        var offset = 0
        guard i < n else { return nil }
        let z = b[i]
        if z == 90 || z == 122 {   // Z z
            i += 1
        } else if z == 43 || z == 45 {   // + -
            i += 1
            guard let oh = digits(2), oh <= 23 else { return nil }
            var om = 0
            if i < n {
                _ = expect(58)
                guard let m = digits(2), m <= 59 else { return nil }
                om = m
            }
            offset = (oh * 60 + om) * 60 * (z == 45 ? -1 : 1)
        } else {
            return nil
        }
        guard i == n else { return nil }
        let days = Int64(daysFromCivil(year: year, month: month, day: day))
        let secs = days * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offset)
        return secs * 1_000_000 + micros
    }

    public static func parse(_ s: String) -> EventTime? { parse(s.utf8) }

    /// `YYYY-MM-DDTHH:MM:SS` at the start of `b` read with three overlapping 8-byte loads, digits and
    /// separators checked eight at a time; nil when `b` is shorter or is not of that form (the caller's
    /// byte-by-byte reading then decides, and rejects). Every event's timestamp goes through here.
    @inline(__always) static func fixedPart(_ b: UnsafeRawBufferPointer) -> (Int, Int, Int, Int, Int, Int)? {
        guard b.count >= 19, let p = b.baseAddress else { return nil }
        let w0 = UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))                    // YYYY-MM-
        let w1 = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self))  // DDT·····
        let w2 = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 11, as: UInt64.self)) // HH:MM:SS
        // Separators: '-' at 4 and 7; 'T' or 't' at 10 (0xDF folds the case); ':' at 13 and 16.
        guard w0 & 0xFF00_00FF_0000_0000 == 0x2D00_002D_0000_0000,
              (w1 >> 16) & 0xDF == 0x54,
              w2 & 0x0000_FF00_00FF_0000 == 0x0000_3A00_003A_0000 else { return nil }
        let d0 = w0 ^ 0x3030_3030_3030_3030, d1 = w1 ^ 0x3030_3030_3030_3030, d2 = w2 ^ 0x3030_3030_3030_3030
        guard allDigits(d0, 0x00FF_FF00_FFFF_FFFF), allDigits(d1, 0xFFFF), allDigits(d2, 0xFFFF_00FF_FF00_FFFF) else { return nil }
        @inline(__always) func v(_ d: UInt64, _ k: UInt64) -> Int { Int((d >> (8 * k)) & 0xF) }
        return (v(d0, 0) * 1000 + v(d0, 1) * 100 + v(d0, 2) * 10 + v(d0, 3), v(d0, 5) * 10 + v(d0, 6),
                v(d1, 0) * 10 + v(d1, 1), v(d2, 0) * 10 + v(d2, 1), v(d2, 3) * 10 + v(d2, 4), v(d2, 6) * 10 + v(d2, 7))
    }

    /// Every byte of `d` (a word XOR 0x30 in each byte) selected by `mask` (0xFF per byte) is 0–9: its high
    /// nibble is zero and adding 6 to its low nibble does not reach 16 (no carry between bytes: at most 0x15).
    @inline(__always) static func allDigits(_ d: UInt64, _ mask: UInt64) -> Bool {
        let high = d & mask & 0xF0F0_F0F0_F0F0_F0F0
        let low = (d & mask & 0x0F0F_0F0F_0F0F_0F0F) &+ (mask & 0x0606_0606_0606_0606)
        return high == 0 && low & 0x1010_1010_1010_1010 == 0
    }

    /// `2026-01-02T03:04:05.678Z`: UTC, milliseconds, truncated (toward the past).
    public static func formatMillis(_ t: EventTime) -> String {
        var ms = t >= 0 ? t / 1000 : -((-t + 999) / 1000)
        let msPart = Int(((ms % 1000) + 1000) % 1000)
        ms = (ms - Int64(msPart)) / 1000
        let secOfDay = Int(((ms % 86_400) + 86_400) % 86_400)
        let days = (ms - Int64(secOfDay)) / 86_400
        let (y, m, d) = civilFromDays(Int(days))
        var out = ""
        out.reserveCapacity(24)
        func pad(_ v: Int, _ w: Int) { let s = String(v); out += String(repeating: "0", count: max(0, w - s.count)) + s }
        pad(y, 4); out += "-"; pad(m, 2); out += "-"; pad(d, 2); out += "T"
        pad(secOfDay / 3600, 2); out += ":"; pad(secOfDay / 60 % 60, 2); out += ":"; pad(secOfDay % 60, 2)
        out += "."; pad(msPart, 3); out += "Z"
        return out
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
