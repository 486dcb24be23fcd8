import Testing
@testable import LeadScoring

/// The engine's shortcuts give exactly what the general code gives: trait tests on a value's bytes
/// (`TraitMatcher`) against `CompiledRules.holds`, gated condition roots against `eval`, the allocation-free
/// top rules against a sort of all contributions.
@Suite struct FastPathTests {
    typealias F = Fixtures

    static func rules(fit: [FitRule], engagement: [EngagementRule] = [], enter: [Stage: Condition] = [:]) -> Rules {
        Rules(version: "v", halfLife: 30 * F.day, scoreMin: nil, scoreMax: nil, dedupeWindow: 24 * F.hour,
              fit: fit, engagement: engagement, stages: StageRules(enter: enter, disqualify: nil, recycle: nil),
              grades: Grades(fitA: 30, fitB: 15, engagement1: 60, engagement2: 30),
              alerts: AlertRules(onStages: [], onIntent: nil))
    }

    /// Every kind of cheap test, on traits whose values are not cached.
    static let cheapTests: [(String, TraitTest)] = [
        ("email", .matches(try! Pattern("@(gmail|yahoo|hotmail|outlook)\\."))),
        ("email", .matches(try! Pattern("(?i)@(Example|ACME)\\.com"))),
        ("email", .exists),
        ("employees", .range(NumberRange(gte: 50))),
        ("employees", .range(NumberRange(gte: 10, lte: 20))),
        ("employees", .range(NumberRange(lte: 5))),
        ("employees", .eq(.number(42))),
        ("plan", .eq(.string("pro"))),
        ("plan", .oneOf([.string("team"), .number(3), .bool(true), .string("")])),
        ("plan", .eq(.bool(false))),
    ]

    static let values: [TraitValue] = [
        .string("ann@gmail.com"), .string("ann@GMAIL.com"), .string("bob@acme.COM"), .string("x@example.com"),
        .string("@gmail."), .string("gmail.com"), .string("@yahoo"), .string("pro"), .string("Pro"), .string("team"),
        .string(""), .string("3"), .string("true"), .string("50"), .string("zoë@gmail.com"), .string("\u{212A}"),
        .number(50), .number(50 - 1e-10), .number(49.9), .number(10), .number(20 + 1e-10), .number(5), .number(42),
        .number(3), .number(-1), .bool(true), .bool(false), .null, .other,
    ]

    @Test func traitMatcherAgreesWithHoldsOnEveryValue() throws {
        let fit = Self.cheapTests.enumerated().map { i, t in FitRule(name: "r\(i)", when: .trait(t.0, t.1), points: 1) }
        let compiled = CompiledRules(Self.rules(fit: fit))
        let matcher = try #require(compiled.matcher)
        var decided = 0
        for name in ["email", "employees", "plan"] {
            let ti = try #require(compiled.traitIndex[name])
            #expect(!compiled.cacheTraitValues[ti])
            for v in Self.values {
                let expected = compiled.valueBits(ti, v).low
                if case .string(let text) = v {
                    let got = withUTF8Bytes(text) { matcher.lowBits(ti, .text($0)) }
                    if text.utf8.contains(where: { $0 >= 0x80 }) {
                        #expect(got == nil, "non-ASCII \(text) is left to the String path")
                    } else {
                        #expect(got == expected, "trait \(name), value \(v)")
                        decided += 1
                    }
                    // A String passed as a plain value is decided the same way (or left to the String path).
                    let asValue = matcher.lowBits(ti, .value(v))
                    #expect(asValue == nil || asValue == expected)
                } else {
                    #expect(matcher.lowBits(ti, .value(v)) == expected, "trait \(name), value \(v)")
                    decided += 1
                }
            }
        }
        #expect(decided > 60)
    }

    @Test func noMatcherWhenALiteralIsNotASCII() {
        let fit = [FitRule(name: "fr", when: .trait("country", .eq(.string("França"))), points: 1)]
        #expect(CompiledRules(Self.rules(fit: fit)).matcher == nil)
    }

    @Test func engineScoresNonASCIITraitsThroughTheStringPath() {
        // Canonically equivalent spellings are equal Strings: the byte form must not decide them.
        let fit = [FitRule(name: "kelvin", when: .trait("unit", .oneOf([.string("K"), .string("x")])), points: 5)]
        let e = PartitionEngine(rules: Self.rules(fit: fit))
        var s = F.Stream()
        e.feed(s.identify("a", at: F.t0, [("unit", .string("\u{212A}"))]))
        e.feed(s.identify("b", at: F.t0, [("unit", .string("K"))]))
        e.feed(s.identify("c", at: F.t0, [("unit", .string("k"))]))
        #expect(e.contact("a")?.fit == 5)
        #expect(e.contact("b")?.fit == 5)
        #expect(e.contact("c")?.fit == 0)
    }

    @Test func gatedRootsAgreeWithEval() {
        let p = { (s: String) in try! Pattern(s) }
        let conds: [Condition] = [
            .event("A"),
            .page(p("^/pricing")),
            .all([.event("A"), .score(.total, NumberRange(gte: 0))]),
            .all([.score(.total, NumberRange(gte: 0)), .any([.event("A"), .event("B")])]),
            .all([.event("A"), .event("B")]),
            .any([.event("A"), .page(p("docs"))]),
            .any([.event("A"), .score(.total, NumberRange(gte: 0))]),
            .not(.event("A")),
            .score(.total, NumberRange(gte: 0)),
            .trait("plan", .exists),
        ]
        let eng = conds.enumerated().map { i, c in
            EngagementRule(name: "e\(i)", when: c, points: 1, maxPoints: nil, limit: nil, highIntent: false)
        }
        let compiled = CompiledRules(Self.rules(fit: [], engagement: eng))
        let contact = ContactState(id: "c", time: F.t0)
        let sc = CompiledRules.Scores(fit: 0, engagement: 0, total: 0)
        var contexts: [CompiledRules.EventContext] = [.empty]
        for ev in 0..<compiled.eventTable.count { contexts.append(CompiledRules.EventContext(event: ev, pageBits: 0)) }
        for bits in [UInt64(1), 2, 3] { contexts.append(CompiledRules.EventContext(event: -1, pageBits: bits)) }
        var gatedOut = 0
        for (i, root) in compiled.engagement.enumerated() {
            for ctx in contexts {
                let full = compiled.eval(root, ctx, contact, sc)
                #expect(compiled.evalRoot(root, ctx, contact, sc) == full, "condition \(i), context \(ctx)")
                if !compiled.gates[Int(root)].admits(event: ctx.event, pageBits: ctx.pageBits) {
                    #expect(!full, "a gate only rules out what cannot hold")
                    gatedOut += 1
                }
            }
        }
        #expect(gatedOut > 10, "the gates do rule out evaluations")
        #expect(!compiled.gates[Int(compiled.engagement[6])].gated && !compiled.gates[Int(compiled.engagement[7])].gated)
        // The candidate mask is exactly the set of rules whose gate admits the context.
        for ctx in contexts + [CompiledRules.EventContext(event: 0, pageBits: 3), CompiledRules.EventContext(event: 70, pageBits: 0)] {
            var expected: UInt64 = 0
            for (i, root) in compiled.engagement.enumerated()
            where compiled.gates[Int(root)].admits(event: ctx.event, pageBits: ctx.pageBits) { expected |= 1 << UInt64(i) }
            #expect(compiled.engagementCandidates.mask(event: ctx.event, pageBits: ctx.pageBits) == expected, "\(ctx)")
        }
    }

    /// More than 64 engagement rules: no candidate mask, every gate is checked; the same firings either way.
    @Test func manyRulesFireWithoutTheCandidateMask() {
        let eng = (0..<70).map { F.rule("e\($0)", .event("E\($0)"), Double($0 + 1)) }
            + [F.rule("any-track", .score(.total, NumberRange(gte: -1_000)), 0.5)]
        let e = PartitionEngine(rules: F.minimal(engagement: eng))
        #expect(e.core.compiled.engagementCandidates.mask(event: 0, pageBits: 0) == nil)
        var s = F.Stream()
        e.feed(s.track("a", "E66", at: F.t0))
        #expect(e.view("a").engagement == 67.5)
        e.feed(s.track("a", "E3", at: F.t0))
        #expect(e.view("a").engagement == 67.5 + 4.5)
        #expect(e.ruleFirings[66] == 1 && e.ruleFirings[3] == 1 && e.ruleFirings[70] == 2 && e.ruleFirings[65] == 0)
    }

    @Test func topRulesAreAStableSortByMagnitudeThenName() {
        // Equal magnitudes, names out of file order, a negative one, more than three candidates.
        let fit = [FitRule(name: "zeta", when: .trait("t", .exists), points: 10),
                   FitRule(name: "alpha", when: .trait("t", .exists), points: -10),
                   FitRule(name: "mid", when: .trait("t", .exists), points: 10),
                   FitRule(name: "small", when: .trait("t", .exists), points: 1)]
        let eng = [EngagementRule(name: "beta", when: .event("E"), points: 10, maxPoints: nil, limit: nil, highIntent: false),
                   EngagementRule(name: "big", when: .event("F"), points: 25, maxPoints: nil, limit: nil, highIntent: false)]
        let e = PartitionEngine(rules: Self.rules(fit: fit, engagement: eng))
        var s = F.Stream()
        e.feed(s.identify("a", at: F.t0, [("t", .bool(true))]))
        e.feed(s.track("a", "E", at: F.t0))
        let top = e.contact("a")!.topRules
        #expect(top.map(\.rule) == ["alpha", "beta", "mid"])
        #expect(top.map(\.points) == [-10, 10, 10])
        e.feed(s.track("a", "F", at: F.t0))
        #expect(e.contact("a")!.topRules.map(\.rule) == ["big", "alpha", "beta"])
    }

    /// The scanner's ASCII flag (which lets `TextSpan.withUTF8` skip its own check) is exactly "every byte
    /// between the quotes is below 0x80", on the word path and on the byte path (escapes, buffer end).
    @Test func scannedASCIIFlagAgreesWithTheBytes() throws {
        var rng = SeededRandom(seed: 5)
        let specials: [UInt8] = [0x80, 0xC3, 0xA9, 0xFF, 0x7F, 0x20]
        for len in 0..<30 {
            for _ in 0..<60 {
                var body = (0..<len).map { _ in UInt8(0x61 + Int(rng.next() % 26)) }
                if len > 0 && rng.next() % 2 == 0 { body[Int(rng.next() % UInt64(len))] = specials[Int(rng.next() % 6)] }
                if len > 1 && rng.next() % 4 == 0 {
                    let k = Int(rng.next() % UInt64(len - 1))
                    body[k] = 0x5C; body[k + 1] = 0x6E                       // an escape: \n
                }
                let trailing = Int(rng.next() % 12)                           // 0: the quote ends the buffer
                let json: [UInt8] = [0x22] + body + [0x22] + [UInt8](repeating: 0x20, count: trailing)
                try json.withUnsafeBytes { b in
                    var s = JSONScanner(b)
                    let (r, escaped, ascii) = try s.scanString()
                    #expect(r == 1..<(1 + len))
                    #expect(escaped == body.contains(0x5C))
                    #expect(ascii == body.allSatisfy { $0 < 0x80 }, "\(body)")
                    let span = TextSpan(r, escaped: escaped, ascii: ascii)
                    #expect(span.plain == (!escaped && ascii))
                }
            }
        }
    }

    /// `ByteKeyTable` (the hot path's string lookups) agrees with a Dictionary of byte arrays: through its
    /// growth, replacements, absent keys, prefixes of present ones, the empty key, and after `removeAll`.
    @Test func byteKeyTableAgreesWithADictionary() {
        var rng = SeededRandom(seed: 9)
        var table = ByteKeyTable<Int>()
        var reference: [[UInt8]: Int] = [:]
        for n in 0..<600 {
            let key = (0..<Int(rng.next() % 24)).map { _ in UInt8(0x61 + Int(rng.next() % 3)) }
            key.withUnsafeBytes { table.set(utf8: $0, hash: indexHash($0), n) }
            reference[key] = n
        }
        table.set("é", -1); reference[Array("é".utf8)] = -1
        #expect(table.count == reference.count)
        for (key, value) in reference { #expect(key.withUnsafeBytes { table.find(utf8: $0) } == value, "\(key)") }
        for _ in 0..<600 {
            let probe = (0..<Int(rng.next() % 30)).map { _ in UInt8(0x61 + Int(rng.next() % 4)) }
            #expect(probe.withUnsafeBytes { table.find(utf8: $0) } == reference[probe], "\(probe)")
        }
        table.removeAll()
        #expect(table.count == 0)
        #expect(Array("a".utf8).withUnsafeBytes { table.find(utf8: $0) } == nil)
        table.set("a", 7)
        #expect(Array("a".utf8).withUnsafeBytes { table.find(utf8: $0) } == 7)
    }

    /// `bytesEqual`'s overlapping loads (up to 16 bytes) agree with comparing byte by byte, wherever the bytes
    /// differ and however long they are.
    @Test func bytesEqualAgreesWithByteComparison() {
        var rng = SeededRandom(seed: 3)
        for len in 0..<40 {
            for _ in 0..<40 {
                let a = (0..<len).map { _ in UInt8(truncatingIfNeeded: rng.next() % 4) }   // few values: many equal
                var b = a
                if len > 0 && rng.next() % 2 == 0 { b[Int(rng.next() % UInt64(len))] ^= UInt8(1 + rng.next() % 255) }
                let same = a.withUnsafeBytes { x in b.withUnsafeBytes { y in bytesEqual(x, y) } }
                #expect(same == (a == b), "\(a) \(b)")
                let shorter = a.withUnsafeBytes { x in b.dropLast().withUnsafeBytes { y in bytesEqual(x, y) } }
                #expect(shorter == (len == 0))          // a different length is never equal
            }
        }
    }

    /// `indexHash` reads the last < 8 bytes with word loads; the value is the one of a byte-by-byte tail.
    @Test func indexHashTailEqualsTheByteByByteOne() {
        var rng = SeededRandom(seed: 11)
        for len in 0..<40 {
            for _ in 0..<50 {
                let b = (0..<len).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                // The bytes also at the end of a larger buffer (the word load reads back from the end).
                let padded = [UInt8](repeating: 0xEE, count: 9) + b
                let direct = b.withUnsafeBytes { indexHash($0) }
                let inPlace = padded.withUnsafeBytes { indexHash(UnsafeRawBufferPointer(rebasing: $0[9...])) }
                #expect(direct == inPlace)
                #expect(direct == Self.byteTailIndexHash(b), "\(b)")
            }
        }
    }

    /// The message-id hash is stored in checkpoints: it must stay FNV-1a exactly.
    @Test func messageIdHashIsFNV1a() {
        var rng = SeededRandom(seed: 13)
        for len in 0..<40 {
            let b = (0..<len).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for x in b { h = (h ^ UInt64(x)) &* 0x0000_0100_0000_01B3 }
            #expect(b.withUnsafeBytes { engineFNV1a64($0) } == h, "\(b)")
        }
        #expect(engineFNV1a64("") == 0xcbf2_9ce4_8422_2325)
        #expect(engineFNV1a64("a") == 0xaf63_dc4c_8601_ec8c)          // the published FNV-1a 64 test vector
        #expect(engineFNV1a64("foobar") == 0x8594_4171_f739_67e8)
    }

    /// `indexHash` with a byte loop for the tail, as it was first written (the reference).
    static func byteTailIndexHash(_ b: [UInt8]) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(b.count)
        var i = 0
        while i + 8 <= b.count {
            var w: UInt64 = 0
            for k in 0..<8 { w |= UInt64(b[i + k]) << UInt64(8 * k) }
            h = (h ^ w) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 31
            i += 8
        }
        var tail: UInt64 = 0, shift: UInt64 = 0
        while i < b.count { tail |= UInt64(b[i]) << shift; shift += 8; i += 1 }
        h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
        h ^= h >> 29
        h = h &* 0xBF58_476D_1CE4_E5B9
        return h ^ (h >> 32)
    }

    @Test func escapeDetectionAgreesWithAByteByByteCheck() {
        var rng = SeededRandom(seed: 7)
        let alphabet: [UInt8] = [0x00, 0x1F, 0x20, 0x21, 0x22, 0x5B, 0x5C, 0x5D, 0x7F, 0x80, 0xA2, 0xDC, 0xE0, 0xFF, 0x41, 0x61]
        for len in 0..<40 {
            for _ in 0..<200 {
                // Mostly plain letters, sometimes one byte from the edge cases at a random place.
                var b = (0..<len).map { _ in UInt8(0x61 + Int(rng.next() % 26)) }
                if len > 0 && rng.next() % 3 != 0 { b[Int(rng.next() % UInt64(len))] = alphabet[Int(rng.next() % 16)] }
                let expected = b.contains { $0 == 0x22 || $0 == 0x5C || $0 < 0x20 }
                #expect(b.withUnsafeBytes { JSONWriter.needsEscape($0) } == expected, "\(b)")
            }
        }
    }

    @Test func timesAreWrittenInFullForEveryYear() {
        #expect(JSONWriter.formatTime(0) == "1970-01-01T00:00:00.000Z")
        #expect(JSONWriter.formatTime(F.t0 + 1_999) == "2026-01-01T00:00:00.001Z")
        #expect(JSONWriter.formatTime(253_402_300_799_999_999) == "9999-12-31T23:59:59.999Z")
        #expect(JSONWriter.formatTime(-1) == "1969-12-31T23:59:59.999Z")
        #expect(JSONWriter.formatTime(951_782_400_000_000 + 86_399_123_456) == "2000-02-29T23:59:59.123Z")
        // Beyond four-digit years (no ISO-8601 input gives them): a sign and every digit, never a wrong one.
        #expect(JSONWriter.formatTime(253_402_300_800_000_000) == "10000-01-01T00:00:00.000Z")
        #expect(JSONWriter.formatTime(-62_135_596_800_000_001) == "0000-12-31T23:59:59.999Z")
        #expect(JSONWriter.formatTime(-62_167_219_200_000_001) == "-0001-12-31T23:59:59.999Z")
    }

    /// Pruning seen ids keeps exactly those at or after the cutoff, in arrival order — whether the expired ones
    /// are a prefix (the shortcut: one move) or scattered (late arrivals: the general pass).
    @Test func seenPruneKeepsExactlyTheUnexpiredIdsInArrivalOrder() {
        var rng = SeededRandom(seed: 3)
        for _ in 0..<500 {
            var c = ContactState(id: "c", time: 0)
            let n = Int.random(in: 1...30, using: &rng)
            var times: [EventTime] = []
            var t: EventTime = 100
            for _ in 0..<n {
                // Mostly increasing, with some late arrivals.
                t += EventTime.random(in: 0...10, using: &rng)
                times.append(Bool.random(using: &rng) && Int.random(in: 0..<4, using: &rng) == 0 ? t - EventTime.random(in: 0...60, using: &rng) : t)
            }
            for (i, time) in times.enumerated() { c.seenAppend(UInt64(i), time) }
            let cutoff = times[0] + EventTime.random(in: 1...80, using: &rng)   // the first id always expires
            c.seenPrune(cutoff: cutoff)
            let expected = times.enumerated().filter { $0.element >= cutoff }.map { (UInt64($0.offset), $0.element) }
            #expect(c.seenEntries.map(\.hash) == expected.map(\.0))
            #expect(c.seenEntries.map(\.time) == expected.map(\.1))
        }
    }
}
