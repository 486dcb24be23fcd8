/// The atomic tests of the traits whose values are not cached (`CompiledRules.cacheTraitValues` false: e-mail
/// addresses and head counts, whose tests are all comparisons, short lists and literal-set patterns), in a
/// flat form applied to a value's bytes.
///
/// Why: those values rarely repeat, so every identify carrying them ran the generic `holds` on a `String`
/// made for the purpose, copying each test (an enum holding arrays and regexes) on the way — 8 % of the
/// engine's instructions on the bench stream, more than half of it for the trait everybody has (e-mail).
/// Here a value is compared where it is, with no allocation and no reference counting.
///
/// Exactly `holds`: for texts only when they are ASCII (`String` equality is canonical equivalence and
/// `Regex` folds Unicode case; for ASCII both are plain byte comparisons). `lowBits` returns nil for anything
/// else, and the caller takes the `String` path. Built only when all test bits are below 64.
final class TraitMatcher: @unchecked Sendable {
    private enum Op: UInt8 {
        /// Any non-null value.
        case exists
        /// A text equal to literal `a` (bytes of the pool).
        case text
        /// A number equal to `lo`.
        case number
        /// A bool equal to `flag`.
        case bool
        /// A number within `range` (`CompiledRules.inRange`, with its tolerance).
        case range
        /// A text containing one of literals `a..<a + n` (`literals` indices), ASCII-lowercased when `flag`.
        case literalSet
    }

    private struct Test {
        var op: Op
        var bit: UInt8
        var flag = false
        /// Text: pool offset; literal set: first index into `literals`.
        var a: Int32 = 0
        /// Text: byte count; literal set: number of literals.
        var n: Int32 = 0
        /// Number: the value; range: unused.
        var lo = 0.0
        var range = NumberRange()
        /// Literal set: which bytes start a literal (after lowercasing).
        var first = Bits256()
        /// Literal set: `first` for the eight-byte search, when at most two bytes (`PatternPrefilter.leadWords`).
        var lead: PatternPrefilter.LeadWords?
    }

    /// Tests of trait `ti`: `tests[start[ti]..<start[ti + 1]]`.
    private let tests: UnsafeMutableBufferPointer<Test>
    private let start: UnsafeMutableBufferPointer<Int32>
    /// Literal bytes (texts and literal sets), and the (offset, count) of each literal-set member.
    private let pool: UnsafeMutableBufferPointer<UInt8>
    private let literals: UnsafeMutableBufferPointer<PatternPrefilter.LiteralRange>

    /// nil when a test cannot be put in this form (a bit ≥ 64, a non-ASCII literal, a pattern that is not a
    /// literal set) for one of the `uncached` traits.
    init?(traits: Int, uncached: [Bool], tests entries: [CompiledRules.TraitTestEntry]) {
        var byTrait = [[Test]](repeating: [], count: traits)
        var pool: [UInt8] = []
        var literals: [PatternPrefilter.LiteralRange] = []
        func text(_ s: String) -> (Int32, Int32)? {
            let u = Array(s.utf8)
            guard u.allSatisfy({ $0 < 0x80 }) else { return nil }
            defer { pool += u }
            return (Int32(pool.count), Int32(u.count))
        }
        func value(_ v: TraitValue, bit: UInt8) -> Test? {
            switch v {
            case .string(let s):
                guard let (a, n) = text(s) else { return nil }
                return Test(op: .text, bit: bit, a: a, n: n)
            case .number(let d): return Test(op: .number, bit: bit, lo: d)
            case .bool(let b): return Test(op: .bool, bit: bit, flag: b)
            case .null, .other: return nil   // not literals of a rules file
            }
        }
        for (b, e) in entries.enumerated() where uncached[e.trait] {
            guard b < 64 else { return nil }
            let bit = UInt8(b)
            switch e.test {
            case .exists: byTrait[e.trait].append(Test(op: .exists, bit: bit))
            case .eq(let v):
                guard let t = value(v, bit: bit) else { return nil }
                byTrait[e.trait].append(t)
            case .oneOf(let vs):
                for v in vs {
                    guard let t = value(v, bit: bit) else { return nil }
                    byTrait[e.trait].append(t)
                }
            case .range(let r):
                byTrait[e.trait].append(Test(op: .range, bit: bit, range: r))
            case .matches(let p):
                guard let f = p.prefilter, f.exact else { return nil }
                let base = Int32(pool.count)
                byTrait[e.trait].append(Test(op: .literalSet, bit: bit, flag: f.caseInsensitive, a: Int32(literals.count),
                                             n: Int32(f.ranges.count), first: f.first, lead: f.lead))
                literals += f.ranges.map { ($0.offset + base, $0.count) }
                pool += f.pool
            }
        }
        let flat = byTrait.flatMap { $0 }
        self.tests = .allocate(capacity: max(1, flat.count))
        _ = self.tests.initialize(from: flat)
        self.start = .allocate(capacity: traits + 1)
        var k: Int32 = 0
        for ti in 0..<traits { start[ti] = k; k += Int32(byTrait[ti].count) }
        start[traits] = k
        self.pool = .allocate(capacity: max(1, pool.count))
        _ = self.pool.initialize(from: pool)
        self.literals = .allocate(capacity: max(1, literals.count))
        _ = self.literals.initialize(from: literals)
    }

    deinit {
        tests.deallocate(); start.deallocate(); pool.deallocate(); literals.deallocate()
    }

    /// The test bits of trait `ti` (one of the uncached traits) that `value` satisfies; nil when a text is not
    /// ASCII (only the `String` form can tell then).
    func lowBits(_ ti: Int, _ value: TraitInput) -> UInt64? {
        // Through a pointer: a `Test` (~120 bytes) is read field by field, never copied.
        let first = UnsafePointer(tests.baseAddress! + Int(start[ti])), end = UnsafePointer(tests.baseAddress! + Int(start[ti + 1]))
        var bits: UInt64 = 0
        switch value {
        case .text(let t):
            guard isASCII(t) else { return nil }
            var test = first
            while test < end {
                switch test.pointee.op {
                case .exists: bits |= 1 << UInt64(test.pointee.bit)
                case .text:
                    if bytesEqual(t, UnsafeRawBufferPointer(start: pool.baseAddress! + Int(test.pointee.a), count: Int(test.pointee.n))) {
                        bits |= 1 << UInt64(test.pointee.bit)
                    }
                case .literalSet:
                    if containsLiteral(t, test) { bits |= 1 << UInt64(test.pointee.bit) }
                case .number, .bool, .range: break
                }
                test += 1
            }
        case .value(let v):
            var test = first
            while test < end {
                let holds: Bool
                switch (test.pointee.op, v) {
                case (_, .null): holds = false
                case (.exists, _): holds = true
                case (.number, .number(let d)): holds = d == test.pointee.lo
                case (.bool, .bool(let b)): holds = b == test.pointee.flag
                case (.range, .number(let d)): holds = CompiledRules.inRange(d, test.pointee.range)
                case (.text, .string(let s)), (.literalSet, .string(let s)):
                    // Texts arrive as `.text`; a `.string` here would be the caller's choice: decide on its bytes.
                    guard let r = withUTF8Bytes(s, { lowBits(ti, .text($0)) }) else { return nil }
                    return r
                default: holds = false
                }
                if holds { bits |= 1 << UInt64(test.pointee.bit) }
                test += 1
            }
        }
        return bits
    }

    /// One of the test's literals occurs in `t` (ASCII; case-folded when the pattern is `(?i)`).
    @inline(__always) private func containsLiteral(_ t: UnsafeRawBufferPointer, _ test: UnsafePointer<Test>) -> Bool {
        let a = Int(test.pointee.a), n = Int(test.pointee.n)
        return PatternPrefilter.containsAny(t, pool: UnsafePointer(pool.baseAddress!),
                                            literals: UnsafeBufferPointer(rebasing: literals[a..<a + n]),
                                            first: test.pointee.first, lead: test.pointee.lead, caseInsensitive: test.pointee.flag)
    }
}
