/// A conservative literal prefilter for a regex: a set of ASCII strings such that every match of the regex in
/// an ASCII text contains at least one of them. When an ASCII text contains none, the regex cannot match and
/// Swift `Regex` (microseconds per search) is skipped.
///
/// Built only for patterns it fully understands (literals, escapes, classes, groups, alternation, quantifiers,
/// anchors, `\b`, a leading `(?i)`); otherwise there is no prefilter. Applied only to all-ASCII texts, so
/// Unicode case folding and canonical equivalence never come into play.
///
/// When the pattern is nothing but literals, groups and alternation (`@(gmail|yahoo)\.`), the set is the
/// pattern's whole language and the prefilter is `exact`: containing one of the strings IS a match, so the
/// regex never runs on ASCII texts (e-mail addresses never repeat, so their tests are not cached).
struct PatternPrefilter: Sendable {
    let caseInsensitive: Bool
    /// The literals are everything the pattern matches (not just a necessary part of it).
    let exact: Bool
    /// The literals (lower-cased when `caseInsensitive`, in byte order) laid end to end, each at `ranges[k]`,
    /// and the set of their first bytes: the form `containsAny` searches (`TraitMatcher` copies it into its
    /// own pool).
    let pool: [UInt8]
    let ranges: [LiteralRange]
    let first: Bits256
    /// `first` as words to search eight bytes at a time, when it has at most two bytes (`leadWords`).
    let lead: LeadWords?

    /// The literals one by one.
    var literals: [[UInt8]] { ranges.map { Array(pool[Int($0.offset)..<Int($0.offset + $0.count)]) } }

    /// Where one literal is in a pool of bytes.
    typealias LiteralRange = (offset: Int32, count: Int32)

    /// What the literals alone say about a text.
    enum Verdict { case noMatch, match, unknown }

    init?(_ source: String) {
        let bytes = Array(source.utf8)
        var p = Parser(bytes)
        if p.consume("(?i)") { p.caseInsensitive = true }
        let start = p.i
        guard let set = p.alternation(), p.atEnd, !set.isEmpty, set.allSatisfy({ !$0.isEmpty }) else { return nil }
        let ci = p.caseInsensitive
        caseInsensitive = ci
        var language = LanguageParser(bytes, at: start)
        var whole: Set<[UInt8]>? = language.alternation()
        if !language.atEnd || whole?.contains([]) == true { whole = nil }
        exact = whole != nil
        let literals = (whole ?? set).map { lit in ci ? lit.map(PatternPrefilter.lower) : lit }
            .sorted { $0.lexicographicallyPrecedes($1) }
        var pool: [UInt8] = [], ranges: [LiteralRange] = [], first = Bits256()
        for lit in literals {
            ranges.append((Int32(pool.count), Int32(lit.count)))
            pool += lit
            first.insert(Int(lit[0]))
        }
        self.pool = pool; self.ranges = ranges; self.first = first
        lead = Self.leadWords(first: first, caseInsensitive: ci)
    }

    @inline(__always) static func lower(_ b: UInt8) -> UInt8 { (b >= 0x41 && b <= 0x5A) ? b | 0x20 : b }

    /// ASCII punctuation: escaped (`\.`), it stands for itself.
    static func isPunctuation(_ e: UInt8) -> Bool {
        (e >= 0x21 && e <= 0x2F) || (e >= 0x3A && e <= 0x40) || (e >= 0x5B && e <= 0x60) || (e >= 0x7B && e <= 0x7E)
    }

    /// `noMatch` when the regex certainly does not match `text`; `match` when it certainly does (exact
    /// prefilter); `unknown` when the regex has to decide (non-ASCII text, or a literal found by a
    /// necessary-only set).
    func verdict(_ text: String) -> Verdict { withUTF8Bytes(text) { verdict(utf8: $0) } }

    /// The same for a text's UTF-8.
    func verdict(utf8 t: UnsafeRawBufferPointer) -> Verdict {
        guard isASCII(t) else { return .unknown }                 // non-ASCII: no shortcut
        let found = pool.withUnsafeBufferPointer { p in
            ranges.withUnsafeBufferPointer { r in
                Self.containsAny(t, pool: p.baseAddress!, literals: r, first: first, lead: lead, caseInsensitive: caseInsensitive)
            }
        }
        return found ? (exact ? .match : .unknown) : .noMatch
    }

    /// One of `literals` (ranges of `pool`, lower-cased when `ci`) occurs in the ASCII text `t`, ASCII-lowercased
    /// first when `ci`. `first` holds the literals' first bytes: most positions are passed over on one test, and
    /// with `lead` (`leadWords`) eight at a time. The one search of both `verdict` and `TraitMatcher` (which keeps
    /// its literals in its own pool).
    @inline(__always)
    static func containsAny(_ t: UnsafeRawBufferPointer, pool: UnsafePointer<UInt8>,
                            literals: UnsafeBufferPointer<LiteralRange>, first: Bits256, lead: LeadWords?,
                            caseInsensitive ci: Bool) -> Bool {
        let n = t.count
        @inline(__always) func literalAt(_ i: Int, _ c: UInt8) -> Bool {
            for (offset, count) in literals {
                let (off, m) = (Int(offset), Int(count))
                guard i + m <= n, pool[off] == c else { continue }
                var j = 1
                while j < m {
                    let b = ci ? lower(t[i + j]) : t[i + j]
                    if b != pool[off + j] { break }
                    j += 1
                }
                if j == m { return true }
            }
            return false
        }
        var i = 0
        if let lead, let base = t.baseAddress {
            // The first position holding one of the (at most two) lead bytes in the next eight, exactly: the
            // lowest flag of `hasZeroByte` is never a false one.
            while i + 8 <= n {
                let w = (base + i).loadUnaligned(as: UInt64.self)
                let hit = JSONScanner.hasZeroByte(w ^ lead.a) | JSONScanner.hasZeroByte(w ^ lead.b)
                if hit == 0 { i += 8; continue }
                i += hit.trailingZeroBitCount >> 3
                if literalAt(i, ci ? lower(t[i]) : t[i]) { return true }
                i += 1
            }
        }
        while i < n {
            let c = ci ? lower(t[i]) : t[i]
            if first.contains(Int(c)) && literalAt(i, c) { return true }
            i += 1
        }
        return false
    }

    /// Two bytes, each repeated in all eight bytes of a word (the same byte twice when there is one).
    struct LeadWords {
        let a: UInt64
        let b: UInt64
    }

    /// The bytes a text may hold where one of the literals starts, when there are at most two: the literals'
    /// first bytes, and under `(?i)` both cases of a letter (`@(gmail|yahoo)` has one, `(?i)vp` two). nil when
    /// there are more.
    static func leadWords(first: Bits256, caseInsensitive ci: Bool) -> LeadWords? {
        var bytes: [UInt8] = []
        first.forEach { c in
            let b = UInt8(c)
            bytes.append(b)
            if ci && b >= 0x61 && b <= 0x7A { bytes.append(b - 0x20) }
        }
        guard !bytes.isEmpty && bytes.count <= 2 else { return nil }
        let spread: (UInt8) -> UInt64 = { UInt64($0) &* 0x0101_0101_0101_0101 }
        return LeadWords(a: spread(bytes[0]), b: spread(bytes.last!))
    }

    /// Recursive-descent reading of the pattern; each level returns the necessary literal set, or nil.
    private struct Parser {
        let s: [UInt8]
        var i = 0
        var caseInsensitive = false
        var failed = false

        init(_ s: [UInt8]) { self.s = s }

        var atEnd: Bool { i >= s.count && !failed }

        mutating func consume(_ lit: String) -> Bool {
            let b = Array(lit.utf8)
            guard i + b.count <= s.count, Array(s[i..<i + b.count]) == b else { return false }
            i += b.count
            return true
        }

        /// alt := seq ('|' seq)*  — every branch needs a set.
        mutating func alternation() -> Set<[UInt8]>? {
            var union: Set<[UInt8]> = []
            var ok = true
            while true {
                let branch = sequence()
                if failed { return nil }
                if let b = branch { union.formUnion(b) } else { ok = false }
                if i < s.count && s[i] == UInt8(ascii: "|") { i += 1; continue }
                break
            }
            return ok ? union : nil
        }

        /// seq := (atom quantifier?)*  — the best necessary set among its literal runs and groups.
        mutating func sequence() -> Set<[UInt8]>? {
            var candidates: [Set<[UInt8]>] = []
            var run: [UInt8] = []
            func close() { if !run.isEmpty { candidates.append([run]); run = [] } }
            while i < s.count && !failed {
                let c = s[i]
                if c == UInt8(ascii: "|") || c == UInt8(ascii: ")") { break }
                switch c {
                case UInt8(ascii: "^"), UInt8(ascii: "$"):
                    i += 1                                   // zero-width
                    if quantifier() != nil { failed = true }
                case UInt8(ascii: "("):
                    i += 1
                    if consume("?:") {} else if i < s.count && s[i] == UInt8(ascii: "?") { failed = true; break }
                    let inner = alternation()
                    guard !failed, i < s.count, s[i] == UInt8(ascii: ")") else { failed = true; break }
                    i += 1
                    close()
                    let q = quantifier()
                    if failed { break }
                    if (q ?? 1) >= 1, let inner { candidates.append(inner) }
                case UInt8(ascii: "["):
                    skipClass()
                    close()
                    _ = quantifier()
                case UInt8(ascii: "."):
                    i += 1
                    close()
                    _ = quantifier()
                case UInt8(ascii: "\\"):
                    guard i + 1 < s.count else { failed = true; break }
                    let e = s[i + 1]
                    i += 2
                    switch e {
                    case UInt8(ascii: "b"), UInt8(ascii: "B"):
                        if quantifier() != nil { failed = true }   // zero-width
                    case UInt8(ascii: "d"), UInt8(ascii: "D"), UInt8(ascii: "w"), UInt8(ascii: "W"),
                         UInt8(ascii: "s"), UInt8(ascii: "S"):
                        close()
                        _ = quantifier()
                    default:
                        // Escaped punctuation is a literal; letters/digits (\n, \t, \u, \1 …) are not understood.
                        guard PatternPrefilter.isPunctuation(e) else { failed = true; break }
                        literal(e, &run, &candidates)
                    }
                case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"), UInt8(ascii: "{"), UInt8(ascii: "]"),
                     UInt8(ascii: "}"):
                    failed = true                            // dangling quantifier or bracket
                default:
                    i += 1
                    if c >= 0x80 {
                        // Non-ASCII pattern text: not required (texts are ASCII when the prefilter applies).
                        close()
                        while i < s.count && s[i] & 0xC0 == 0x80 { i += 1 }
                        _ = quantifier()
                    } else {
                        literal(c, &run, &candidates)
                    }
                }
            }
            if failed { return nil }
            close()
            // The candidate whose shortest literal is longest filters best.
            return candidates.max { a, b in
                let ma = a.map(\.count).min() ?? 0, mb = b.map(\.count).min() ?? 0
                return ma != mb ? ma < mb : a.count > b.count
            }
        }

        /// A literal character followed by an optional quantifier.
        mutating func literal(_ c: UInt8, _ run: inout [UInt8], _ candidates: inout [Set<[UInt8]>]) {
            let q = quantifier()
            if failed { return }
            let ch = caseInsensitive ? PatternPrefilter.lower(c) : c
            switch q {
            case nil:
                run.append(ch)
            case .some(let min):
                if min >= 1 { run.append(ch) }
                if !run.isEmpty { candidates.append([run]); run = [] }
            }
        }

        /// Reads a quantifier if present; returns its minimum count.
        mutating func quantifier() -> Int? {
            guard i < s.count else { return nil }
            var min: Int
            switch s[i] {
            case UInt8(ascii: "*"): min = 0; i += 1
            case UInt8(ascii: "?"): min = 0; i += 1
            case UInt8(ascii: "+"): min = 1; i += 1
            case UInt8(ascii: "{"):
                var j = i + 1
                var n = 0
                var digits = 0
                while j < s.count && s[j] >= 0x30 && s[j] <= 0x39 { n = n * 10 + Int(s[j] - 0x30); j += 1; digits += 1 }
                guard digits > 0 else { failed = true; return nil }
                while j < s.count && s[j] != UInt8(ascii: "}") {
                    guard s[j] == UInt8(ascii: ",") || (s[j] >= 0x30 && s[j] <= 0x39) else { failed = true; return nil }
                    j += 1
                }
                guard j < s.count else { failed = true; return nil }
                min = n
                i = j + 1
            default: return nil
            }
            if i < s.count && (s[i] == UInt8(ascii: "?") || s[i] == UInt8(ascii: "+")) { i += 1 }   // lazy/possessive
            return min
        }

        mutating func skipClass() {
            i += 1                                           // '['
            if i < s.count && s[i] == UInt8(ascii: "^") { i += 1 }
            if i < s.count && s[i] == UInt8(ascii: "]") { i += 1 }
            while i < s.count && s[i] != UInt8(ascii: "]") {
                if s[i] == UInt8(ascii: "[") { failed = true; return }     // nested / POSIX classes: not understood
                if s[i] == UInt8(ascii: "\\") { i += 1 }
                i += 1
            }
            guard i < s.count else { failed = true; return }
            i += 1                                           // ']'
        }
    }

    /// Reads a pattern made only of literals, groups and alternation into the finite set of strings it
    /// matches; nil for anything else (quantifiers, classes, anchors, `.`, `\b`, non-ASCII, lookarounds),
    /// or when the set would exceed 64 strings.
    private struct LanguageParser {
        let s: [UInt8]
        var i: Int
        var failed = false
        static let limit = 64

        init(_ s: [UInt8], at start: Int) { self.s = s; i = start }

        var atEnd: Bool { i >= s.count && !failed }

        mutating func alternation() -> Set<[UInt8]>? {
            var union: Set<[UInt8]> = []
            while true {
                guard let branch = sequence() else { failed = true; return nil }
                union.formUnion(branch)
                guard union.count <= Self.limit else { failed = true; return nil }
                if i < s.count && s[i] == UInt8(ascii: "|") { i += 1; continue }
                return union
            }
        }

        mutating func sequence() -> Set<[UInt8]>? {
            var strings: Set<[UInt8]> = [[]]
            while i < s.count {
                let c = s[i]
                if c == UInt8(ascii: "|") || c == UInt8(ascii: ")") { break }
                var piece: Set<[UInt8]>
                switch c {
                case UInt8(ascii: "("):
                    i += 1
                    if i + 1 < s.count && s[i] == UInt8(ascii: "?") {
                        guard s[i + 1] == UInt8(ascii: ":") else { return nil }
                        i += 2
                    }
                    guard let inner = alternation(), i < s.count, s[i] == UInt8(ascii: ")") else { return nil }
                    i += 1
                    piece = inner
                case UInt8(ascii: "\\"):
                    guard i + 1 < s.count else { return nil }
                    let e = s[i + 1]
                    guard PatternPrefilter.isPunctuation(e) else { return nil }
                    i += 2
                    piece = [[e]]
                case UInt8(ascii: "."), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "^"), UInt8(ascii: "$"),
                     UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"), UInt8(ascii: "{"), UInt8(ascii: "}"):
                    return nil
                default:
                    guard c >= 0x20 && c < 0x7F else { return nil }
                    i += 1
                    piece = [[c]]
                }
                if i < s.count, [UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"), UInt8(ascii: "{")].contains(s[i]) {
                    return nil                                   // a quantified piece: not a finite small set
                }
                guard strings.count * piece.count <= Self.limit else { return nil }
                var next: Set<[UInt8]> = []
                for a in strings { for b in piece { next.insert(a + b) } }
                strings = next
            }
            return strings
        }
    }
}
