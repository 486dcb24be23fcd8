import Testing
@testable import LeadScoring

/// Alerts (reason, suppression, priority, quiet period) and duplicates (CONTRACTS §2–§3).
@Suite struct AlertAndDedupeTests {
    typealias F = Fixtures
    let day = TimeUnit.day
    let hour = TimeUnit.hour

    func toMQL(_ e: PartitionEngine, _ s: inout F.Stream, _ c: String, at t: EventTime,
               traits: [(String, TraitValue)] = []) -> [OutputRecord] {
        var out: [OutputRecord] = []
        for _ in 0..<3 { out += e.feed(s.track(c, "Content Downloaded", at: t)) }
        out += e.feed(s.track(c, "Demo Requested", at: t, traits: traits))
        return out
    }

    @Test func intentAlertNeedsMinStageAndIsSuppressedForExactlySuppressFor() {
        let e = PartitionEngine(rules: F.exampleRules())
        var s = F.Stream()
        #expect(e.feed(s.page("s", "/pricing", at: F.t0)).isEmpty)                       // lead < mql: no alert
        #expect(toMQL(e, &s, "s", at: F.t0).map(\.id) == ["s:stage:lead>mql:m5", "s:alert:intent:demo-request:m5"])
        #expect(e.feed(s.page("s", "/pricing", at: F.t0 + hour)).isEmpty)                // suppressed
        #expect(e.feed(s.page("s", "/pricing", at: F.t0 + day)).map(\.id) == ["s:alert:intent:pricing-page:m7"])
        #expect(e.feed(s.page("s", "/pricing", at: F.t0 + day + 1)).isEmpty)             // suppressed again
        // 85 points with a demo within 30 d: sql, whose stage alert wins over the intent alert
        #expect(e.feed(s.page("s", "/pricing", at: F.t0 + 2 * day + 2)).map(\.id) == ["s:stage:mql>sql:m9", "s:alert:stage:m9"])
    }

    @Test func limitBlockedFiringGivesNoIntentAlert() {
        let rules = F.minimal(engagement: [F.rule("p", .event("P"), 1, limit: RateLimit(count: 1, per: TimeUnit.day), intent: true)],
                              onIntent: .init(minStage: .lead, suppressFor: 0))
        let e = PartitionEngine(rules: rules)
        var s = F.Stream()
        #expect(e.feed(s.track("a", "P", at: F.t0)).map(\.id) == ["a:alert:intent:p:m1"])
        #expect(e.feed(s.track("a", "P", at: F.t0 + 1)).isEmpty)
        #expect(e.feed(s.track("a", "P", at: F.t0 + TimeUnit.day)).map(\.id) == ["a:alert:intent:p:m3"])
    }

    @Test func firstIntentRuleInFileOrderNamesTheAlert() {
        let rules = F.minimal(engagement: [F.rule("plain", .event("E"), 1),
                                           F.rule("first", .event("E"), 1, intent: true),
                                           F.rule("second", .event("E"), 1, intent: true)],
                              onIntent: .init(minStage: .lead, suppressFor: hour))
        let e = PartitionEngine(rules: rules)
        var s = F.Stream()
        let out = e.feed(s.track("a", "E", at: F.t0))
        #expect(out.map(\.id) == ["a:alert:intent:first:m1"])
        #expect(out[0].text.contains("\"reason\":\"intent\",\"rule\":\"first\",\"stage\":\"lead\""))
    }

    @Test func stageAlertHasNoRuleAndIsNotSuppressed() {
        let rules = F.minimal(engagement: [F.rule("i", .event("I"), 1, intent: true)],
                              enter: [.mql: .event("M"), .sql: .event("S")],
                              onStages: [.mql, .sql], onIntent: .init(minStage: .lead, suppressFor: day))
        let e = PartitionEngine(rules: rules)
        var s = F.Stream()
        #expect(e.feed(s.track("a", "I", at: F.t0)).map(\.id) == ["a:alert:intent:i:m1"])
        let m = e.feed(s.track("a", "M", at: F.t0 + 1))
        #expect(m.map(\.id) == ["a:stage:lead>mql:m2", "a:alert:stage:m2"])
        #expect(!m[1].text.contains("\"reason\":\"stage\",\"rule\""))
        #expect(m[1].text.contains("\"reason\":\"stage\",\"stage\":\"mql\",\"priority\":\"P3\""))
        #expect(e.feed(s.track("a", "S", at: F.t0 + 2)).map(\.id) == ["a:stage:mql>sql:m3", "a:alert:stage:m3"])
        // the stage alerts restarted suppression
        #expect(e.feed(s.track("a", "I", at: F.t0 + day)).isEmpty)
        #expect(e.feed(s.track("a", "I", at: F.t0 + day + 2)).map(\.id) == ["a:alert:intent:i:m5"])
    }

    @Test func priorityFollowsTheFitLetter() {
        let e = PartitionEngine(rules: F.exampleRules())
        var s = F.Stream()
        let a = toMQL(e, &s, "a", at: F.t0, traits: [("title", .string("CEO")), ("employees", .number(100)), ("industry", .string("saas"))])
        #expect(a.map(\.kind) == [.stageChange, .alert])        // fit 35 + 60 ≥ 80 with a demo: lead→sql + stage alert
        let b = toMQL(e, &s, "b", at: F.t0, traits: [("title", .string("CEO"))])
        let c = toMQL(e, &s, "c", at: F.t0)
        #expect(a.last!.text.contains("\"priority\":\"P1\""))
        #expect(b.last!.text.contains("\"priority\":\"P2\""))
        #expect(c.last!.text.contains("\"priority\":\"P3\""))
    }

    @Test func quietUntilSuppressesAlertsWithoutStartingSuppression() {
        let e = PartitionEngine(rules: F.exampleRules(), options: EngineOptions(quietUntil: F.t0 + day))
        var s = F.Stream()
        #expect(toMQL(e, &s, "a", at: F.t0).map(\.id) == ["a:stage:lead>mql:m4"])
        #expect(e.feed(s.page("a", "/pricing", at: F.t0 + day)).map(\.id) == ["a:alert:intent:pricing-page:m5"])
    }

    @Test func duplicatesAreDroppedWithinTheWindowAndRescoredAfter() {
        let e = PartitionEngine(rules: F.minimal(engagement: [F.rule("dl", .event("DL"), 10)], halfLife: 1_000_000 * day))
        var s = F.Stream()
        var out: [OutputRecord] = []
        let first = s.track("a", "DL", at: F.t0, id: "dup")
        #expect(e.apply(first, trigger: Trigger(messageId: "dup"), into: &out) == .scored)
        let again = s.track("a", "DL", at: F.t0 + 2 * day, id: "dup")
        #expect(e.apply(again, trigger: Trigger(messageId: "dup"), into: &out) == .duplicate)
        #expect(e.watermark == F.t0)                                   // no watermark effect
        #expect(e.view("a").engagement == 10)
        #expect(e.duplicates == 1)
        // Kept while within the window of the newest event time (inclusive).
        e.feed(s.track("a", "DL", at: F.t0 + day))
        #expect(e.apply(again, trigger: Trigger(messageId: "dup"), into: &out) == .duplicate)
        // Newest moves past t0 + window: the id is forgotten, a re-delivery is scored again.
        e.feed(s.track("a", "DL", at: F.t0 + day + 1))
        #expect(e.apply(again, trigger: Trigger(messageId: "dup"), into: &out) == .scored)
        #expect(abs(e.view("a").engagement - 40) < 1e-4)
        // Another contact may use the same message id.
        #expect(e.apply(s.track("b", "DL", at: F.t0, id: "dup"), trigger: Trigger(messageId: "dup"), into: &out) == .scored)
    }

    @Test func groupAndAliasAreIgnored() {
        let e = PartitionEngine(rules: F.exampleRules())
        var out: [OutputRecord] = []
        for k in [SegmentEvent.Kind.group, .alias] {
            let ev = SegmentEvent(kind: k, messageId: "g", contactId: "a", timestamp: F.t0)
            #expect(e.apply(ev, trigger: Trigger(messageId: "g"), into: &out) == .ignored)
        }
        #expect(e.contactCount == 0 && e.watermark == nil && out.isEmpty)
    }
}

/// A very active contact's ids move to a table; dedupe and checkpoints behave the same.
@Suite struct ActiveContactDedupeTests {
    @Test func manyIdsWithinTheWindowStayDeduplicated() throws {
        let e = PartitionEngine(rules: Fixtures.minimal(engagement: [Fixtures.rule("x", .event("X"), 1)],
                                                        halfLife: 1_000_000 * TimeUnit.day))
        var out: [OutputRecord] = []
        func ev(_ i: Int, at t: EventTime) -> SegmentEvent {
            SegmentEvent(kind: .track, messageId: "id\(i)", contactId: "hot", timestamp: t, eventName: "X")
        }
        for i in 0..<300 { #expect(e.apply(ev(i, at: Fixtures.t0 + Int64(i)), trigger: Trigger(messageId: "id\(i)"), into: &out) == .scored) }
        for i in stride(from: 0, to: 300, by: 7) {
            #expect(e.apply(ev(i, at: Fixtures.t0 + 1000), trigger: Trigger(messageId: "id\(i)"), into: &out) == .duplicate)
        }
        let restored = PartitionEngine(rules: e.rules)
        try restored.restoreContact(id: "hot", bytes: e.encodeContact("hot")!)
        #expect(restored.encodeContact("hot") == e.encodeContact("hot"))
        // One day later the first ids are forgotten: re-deliveries score again, in both engines.
        for engine in [e, restored] {
            #expect(engine.apply(ev(1000, at: Fixtures.t0 + TimeUnit.day + 10), trigger: Trigger(messageId: "n"), into: &out) == .scored)
            #expect(engine.apply(ev(5, at: Fixtures.t0 + 5), trigger: Trigger(messageId: "id5"), into: &out) == .scored)
            #expect(engine.apply(ev(299, at: Fixtures.t0 + 299), trigger: Trigger(messageId: "id299"), into: &out) == .duplicate)
        }
        #expect(abs(e.view("hot").engagement - restored.view("hot").engagement) < 1e-12)
    }
}
