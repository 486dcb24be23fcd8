import Testing
@testable import LeadScoring

/// Record bytes (CONTRACTS §4): key order, ids, numbers, times, escaping.
@Suite struct RecordTests {
    typealias F = Fixtures

    @Test func stageChangeAndStageAlertAreByteExact() {
        let e = PartitionEngine(rules: F.exampleRules())
        var s = F.Stream()
        e.feed(s.track("a", "Content Downloaded", at: F.t0))
        e.feed(s.track("a", "Content Downloaded", at: F.t0))
        let out = e.feed(s.track("a", "Demo Requested", at: F.t0 + 1_999, traits: [
            ("title", .string("CTO")), ("employees", .number(500)), ("industry", .string("software"))]))
        let score = #"{"total":85,"fit":35,"engagement":50}"#
        let top = #"[{"rule":"demo-request","points":30},{"rule":"content-download","points":20},{"rule":"decision-maker","points":15}]"#
        #expect(out.count == 2)
        #expect(out[0].text == #"{"id":"a:stage:lead>sql:m3","type":"stage_changed","contact_id":"a","from":"lead","to":"sql","at":"2026-01-01T00:00:00.001Z","score":"# + score + #","grade":"A2","top_rules":"# + top + #","trigger":{"message_id":"m3"},"rules_version":"v-test"}"#)
        #expect(out[1].text == #"{"id":"a:alert:stage:m3","type":"hot_lead","contact_id":"a","reason":"stage","stage":"sql","priority":"P1","score":"# + score + #","grade":"A2","top_rules":"# + top + #","trigger":{"message_id":"m3"},"at":"2026-01-01T00:00:00.001Z","rules_version":"v-test"}"#)
        #expect(out[0].contactId == "a" && out[0].id == "a:stage:lead>sql:m3")
    }

    @Test func triggerCarriesTopicPartitionOffsetWhenKnown() {
        let e = PartitionEngine(rules: F.minimal(enter: [.mql: .event("M")]))
        var out: [OutputRecord] = []
        let ev = SegmentEvent(kind: .track, messageId: "q\"1", contactId: "c\\1", timestamp: F.t0, eventName: "M")
        _ = e.apply(ev, trigger: Trigger(messageId: "q\"1", topic: "leadscore.events", partition: 3, offset: 42), into: &out)
        #expect(out.count == 1)
        #expect(out[0].id == "c\\1:stage:lead>mql:q\"1")
        #expect(out[0].text.contains(#""trigger":{"message_id":"q\"1","topic":"leadscore.events","partition":3,"offset":42}"#))
        #expect(out[0].text.hasPrefix(#"{"id":"c\\1:stage:lead>mql:q\"1","type":"stage_changed","contact_id":"c\\1","#))
        #expect(out[0].text.contains(#""top_rules":[]"#))
    }

    @Test func numbersAreRoundedToSixDecimalsInPlainForm() {
        let cases: [(Double, String)] = [
            (55.5, "55.5"), (55, "55"), (-10.25, "-10.25"), (0, "0"), (-0.0, "0"), (-0.0000001, "0"),
            (0.000001, "0.000001"), (1.0000004, "1"), (123456.123456789, "123456.123457"),
            (-0.05, "-0.05"), (1e15, "1000000000000000"), (2.5e-7, "0"), (0.1 + 0.2, "0.3"),
            // Beyond 9e12 (scaled past Int64): the fraction a Double still has there is kept.
            (12_345_678_901_234.5, "12345678901234.5"), (-12_345_678_901_234.25, "-12345678901234.25"),
            (9_000_000_000_000.001953125, "9000000000000.001953"), (1e20, "100000000000000000000"),
        ]
        for (x, text) in cases { #expect(JSONWriter.formatNumber(x) == text, "\(x)") }
    }

    @Test func timesAreISO8601UTCTruncatedToMilliseconds() {
        #expect(JSONWriter.formatTime(F.t0) == "2026-01-01T00:00:00.000Z")
        #expect(JSONWriter.formatTime(F.t0 + 999) == "2026-01-01T00:00:00.000Z")
        #expect(JSONWriter.formatTime(F.t0 + 1_000) == "2026-01-01T00:00:00.001Z")
        #expect(JSONWriter.formatTime(F.t0 - 1) == "2025-12-31T23:59:59.999Z")
        #expect(JSONWriter.formatTime(0) == "1970-01-01T00:00:00.000Z")
        #expect(JSONWriter.formatTime(951_782_400_000_000 + 123_456) == "2000-02-29T00:00:00.123Z")
    }

    @Test func stringsAreEscaped() {
        var w = JSONWriter()
        w.string("a\"b\\c\nd\u{1}é")
        #expect(String(decoding: w.bytes, as: UTF8.self) == #""a\"b\\c\u000ad\u0001é""#)
    }

    /// The writer's own buffer grows as needed: a text many times its initial capacity comes out whole, in order.
    @Test func aWriterGrowsPastItsCapacity() {
        var w = JSONWriter(capacity: 16)
        var expected = "["
        w.byte(0x5B)
        for i in 0..<500 {
            let piece = "k\(i)-" + String(repeating: "x", count: i % 37)
            if i > 0 { w.byte(0x2C); expected += "," }
            w.raw("{"); w.key("n"); w.integer(Int64(i) - 250); w.raw(",\"s\":"); w.string(piece)
            w.raw(",\"v\":"); w.number(Double(i) / 8); w.raw(",\"t\":"); w.time(Int64(i) * 1_000_000); w.byte(0x7D)
            expected += "{\"n\":\(i - 250),\"s\":\"\(piece)\",\"v\":\(JSONWriter.formatNumber(Double(i) / 8)),\"t\":\"\(JSONWriter.formatTime(Int64(i) * 1_000_000))\"}"
        }
        w.byte(0x5D); expected += "]"
        #expect(String(decoding: w.bytes, as: UTF8.self) == expected)
        #expect(w.bytes.count > 16 * 100)
    }

    @Test func topRulesKeepSignsAndBreakTiesByName() {
        let fit = [FitRule(name: "zeta", when: .trait("x", .exists), points: -10),
                   FitRule(name: "alpha", when: .trait("x", .exists), points: 10),
                   FitRule(name: "zero", when: .trait("x", .exists), points: 0)]
        let e = PartitionEngine(rules: F.minimal(fit: fit, engagement: [F.rule("big", .event("B"), -40)]))
        var s = F.Stream()
        e.feed(s.track("a", "B", at: F.t0, traits: [("x", .number(1))]))
        let top = e.view("a").topRules
        #expect(top.map(\.rule) == ["big", "alpha", "zeta"])
        #expect(top.map(\.points) == [-40, 10, -10])
    }

    /// "Non-zero current contribution" as the record shows it: a contribution that rounds to 0 at 6 decimals
    /// (10 points 40 half-lives ago: 9e-12) is left out instead of printed as `"points":0`.
    @Test func topRulesLeaveOutContributionsThatRoundToZero() {
        let e = PartitionEngine(rules: F.minimal(engagement: [F.rule("old", .event("A"), 10), F.rule("new", .event("B"), -1)],
                                                 halfLife: TimeUnit.day))
        var s = F.Stream()
        e.feed(s.track("a", "A", at: F.t0))
        e.feed(s.track("a", "B", at: F.t0 + 40 * TimeUnit.day))
        let top = e.view("a").topRules
        #expect(top.map(\.rule) == ["new"])
        #expect(top.map(\.points) == [-1])
    }
}
