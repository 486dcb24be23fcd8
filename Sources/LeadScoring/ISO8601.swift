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
        guard let year = digits(4), expect(45), let month = digits(2), expect(45), let day = digits(2) else { return nil }
        guard i < n, b[i] == 84 || b[i] == 116 else { return nil }   // T or t
        i += 1
        guard let hour = digits(2), expect(58), let minute = digits(2), expect(58), let second = digits(2) else { return nil }
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
