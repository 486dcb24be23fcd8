import Testing
@testable import LeadScoring

/// The stage machine of CONTRACTS §3 on the example rules, hand-computed.
@Suite struct StageTests {
    typealias F = Fixtures
    let day = TimeUnit.day
    let hour = TimeUnit.hour

    @Test func contactIsCreatedAtLeadSilently() {
        let e = PartitionEngine(rules: F.exampleRules())
        var s = F.Stream()
        #expect(e.feed(s.identify("a", at: F.t0, [("title", .string("CEO"))])).isEmpty)
        #expect(e.view("a").stage == .lead)
        #expect(e.stageCounts()[.lead] == 1)
    }

    @Test func skippingStagesGivesOneRecordAndOneStageAlert() {
        let e = PartitionEngine(rules: F.exampleRules())
        var s = F.Stream()
        e.feed(s.track("a", "Content Downloaded", at: F.t0))
        e.feed(s.track("a", "Content Downloaded", at: F.t0))
        let out = e.feed(s.track("a", "Demo Requested", at: F.t0, traits: [
            ("title", .string("CTO")), ("employees", .number(500)), ("industry", .string("software"))]))
        #expect(out.map(\.id) == ["a:stage:lead>sql:m3", "a:alert:stage:m3"])   // no intent alert on top
        #expect(out.map(\.kind) == [.stageChange, .alert])
        #expect(e.view("a").stage == .sql)
    }

    @Test func stagesNeverMoveBackward() {
        let e = PartitionEngine(rules: F.exampleRules())
        var s = F.Stream()
        _ = F.toMQL(e, &s, "a", at: F.t0)
        #expect(e.feed(s.track("a", "Lead Accepted", at: F.t0)).map(\.id) == ["a:stage:mql>sal:m5"])
        // score still ≥ 50: mql's condition holds but mql is below sal
        #expect(e.feed(s.track("a", "Content Downloaded", at: F.t0)).isEmpty)
        // sal is not a recycle `from` stage: falling below 25 keeps it at sal
        #expect(e.feed(s.track("a", "Unsubscribed", at: F.t0)).isEmpty)
        #expect(e.feed(s.track("a", "Unsubscribed", at: F.t0)).isEmpty)
        #expect(e.view("a").stage == .sal)
        #expect(e.feed(s.track("a", "Deal Won", at: F.t0)).map(\.id) == ["a:stage:sal>customer:m9"])
        #expect(e.feed(s.track("a", "Opportunity Created", at: F.t0)).isEmpty)
    }

    @Test func recycleOnTheEventThatDropsTheScore() {
        let e = PartitionEngine(rules: F.exampleRules())
        var s = F.Stream()
        #expect(F.toMQL(e, &s, "r", at: F.t0).map(\.id) == ["r:stage:lead>mql:m4", "r:alert:intent:demo-request:m4"])
        #expect(e.feed(s.track("r", "Unsubscribed", at: F.t0)).isEmpty)          // 40 ≥ 25
        let out = e.feed(s.track("r", "Unsubscribed", at: F.t0))                 // 20 < 25
        #expect(out.map(\.id) == ["r:stage:mql>lead:m6"])
        #expect(out[0].text.contains("\"score\":{\"total\":20,\"fit\":0,\"engagement\":20}"))
    }

    @Test func recycleAsTheWatermarkPassesTheCrossingOrderedByCrossingThenContact() {
        let e = PartitionEngine(rules: F.exampleRules())
        var s = F.Stream()
        _ = F.toMQL(e, &s, "y", at: F.t0)                   // 60 → crosses 25 at t0 + 37.891 d
        _ = F.toMQL(e, &s, "x", at: F.t0)                   // same crossing; ordered by id: x before y
        for _ in 0..<3 { e.feed(s.track("w", "Content Downloaded", at: F.t0)) }
        for _ in 0..<3 { e.feed(s.page("w", "/pricing", at: F.t0)) }
        for _ in 0..<2 { e.feed(s.track("w", "Email Opened", at: F.t0)) }
        #expect(e.feed(s.track("w", "Email Opened", at: F.t0)).map(\.id) == ["w:stage:lead>mql:m17"])   // 51 → crosses at 30.857 d
        // Another contact's event before any crossing: nothing.
        #expect(e.feed(s.track("z", "Other", at: F.t0 + 30 * day)).isEmpty)
        let out = e.feed(s.track("z", "Other", at: F.t0 + 40 * day, id: "late-z"))
        #expect(out.map(\.id) == ["w:stage:mql>lead:late-z", "x:stage:mql>lead:late-z", "y:stage:mql>lead:late-z"])
        #expect(out[0].text.contains("\"at\":\"2026-01-31T20:34:11.242Z\""))
        #expect(out[1].text.contains("\"at\":\"2026-02-07T21:23:05.180Z\""))
        #expect(out[0].text.contains("\"score\":{\"total\":25,\"fit\":0,\"engagement\":25}"))
        #expect(out.allSatisfy { $0.text.contains("\"trigger\":{\"message_id\":\"late-z\"}") })
        #expect(e.view("x").stage == .lead && e.view("w").stage == .lead)
        // Not again.
        #expect(e.feed(s.track("z", "Other", at: F.t0 + 50 * day)).isEmpty)
    }

    @Test func recycleIsDueOnlyWhenTheWatermarkMovesStrictlyPast() {
        // mql on an event, entered already below 25: crossing = time of the last points change.
        let rules = F.minimal(enter: [.mql: .event("MQL")], recycle: .init(below: 25, from: [.mql]))
        let e = PartitionEngine(rules: rules)
        var s = F.Stream()
        #expect(e.feed(s.track("a", "MQL", at: F.t0)).map(\.id) == ["a:stage:lead>mql:m1"])
        #expect(e.feed(s.track("b", "x", at: F.t0)).isEmpty)          // watermark not past t0
        let out = e.feed(s.track("b", "x", at: F.t0 + 1))
        #expect(out.map(\.id) == ["a:stage:mql>lead:m3"])
        #expect(out[0].text.contains("\"at\":\"2026-01-01T00:00:00.000Z\""))
    }

    @Test func recycleDueBeforeTheContactsOwnEvent() {
        let e = PartitionEngine(rules: F.exampleRules())
        var s = F.Stream()
        _ = F.toMQL(e, &s, "x", at: F.t0)
        // x's own event after its crossing: the recycle (b) record first, then the event from lead.
        let out = e.feed(s.track("x", "Content Downloaded", at: F.t0 + 40 * day))
        #expect(out.map(\.id) == ["x:stage:mql>lead:m5"])
        #expect(out[0].text.contains("\"at\":\"2026-02-07T21:23:05.180Z\""))
    }

    @Test func disqualifyAndRequalify() {
        let e = PartitionEngine(rules: F.exampleRules())
        var s = F.Stream()
        _ = F.toMQL(e, &s, "d", at: F.t0)
        let dq = e.feed(s.track("d", "Lead Disqualified", at: F.t0 + hour, traits: [("title", .string("CEO"))]))
        #expect(dq.map(\.id) == ["d:stage:mql>disqualified:m5"])
        #expect(e.view("d").fit == 15)                                             // traits still updated
        // While disqualified: points keep coming, no stage, no alert.
        #expect(e.feed(s.track("d", "Demo Requested", at: F.t0 + 2 * hour)).isEmpty)
        #expect(e.feed(s.track("d", "Lead Accepted", at: F.t0 + 2 * hour)).isEmpty)
        #expect(e.view("d").stage == .disqualified)
        #expect(e.view("d").engagement > 89.8)
        // Requalified: back to lead, then stages and alerts on the same event.
        let rq = e.feed(s.track("d", "Lead Requalified", at: F.t0 + 3 * hour))
        #expect(rq.map(\.id) == ["d:stage:disqualified>lead:m8", "d:stage:lead>sql:m8", "d:alert:stage:m8"])
        // A disqualified contact never recycles by time.
        let e2 = PartitionEngine(rules: F.exampleRules())
        var s2 = F.Stream()
        _ = F.toMQL(e2, &s2, "q", at: F.t0)
        e2.feed(s2.track("q", "Lead Disqualified", at: F.t0))
        #expect(e2.feed(s2.track("o", "x", at: F.t0 + 100 * day)).isEmpty)
    }

    @Test func disqualifyingEventScoresButGivesNoOtherStageOrAlert() {
        let rules = F.minimal(engagement: [F.rule("dq-points", .event("DQ"), 100, intent: true)],
                              enter: [.mql: .score(.total, NumberRange(gte: 50))],
                              disqualify: .init(when: .event("DQ"), until: nil),
                              onStages: [.mql], onIntent: .init(minStage: .lead, suppressFor: hour))
        let e = PartitionEngine(rules: rules)
        var s = F.Stream()
        #expect(e.feed(s.track("a", "DQ", at: F.t0)).map(\.id) == ["a:stage:lead>disqualified:m1"])
        #expect(e.view("a").engagement == 100)
        #expect(e.feed(s.track("a", "DQ", at: F.t0)).isEmpty)      // no `until`: stays out
    }
}

/// More contract details: late events, capped firings, record time.
@Suite struct LateAndCappedTests {
    typealias F = Fixtures

    @Test func lateEventIsEvaluatedAtTheContactsNewestTime() {
        let e = PartitionEngine(rules: F.minimal(engagement: [F.rule("dl", .event("DL"), 30)],
                                                 enter: [.mql: .score(.total, NumberRange(gte: 50))]))
        var s = F.Stream()
        e.feed(s.track("a", "DL", at: F.t0 + 30 * TimeUnit.day))                  // 30 at T
        // A late event one half-life older adds 15 → 45: no stage.
        #expect(e.feed(s.track("a", "DL", at: F.t0)).isEmpty)
        let out = e.feed(s.track("a", "DL", at: F.t0 + 15 * TimeUnit.day))      // adds 30·2^(−0.5) ≈ 21.2
        #expect(out.map(\.id) == ["a:stage:lead>mql:m3"])
        #expect(out[0].text.contains("\"at\":\"2026-01-31T00:00:00.000Z\""))     // T, not the late event's time
        #expect(e.watermark == F.t0 + 30 * TimeUnit.day)
    }

    @Test func aCappedFiringStillFiresForIntent() {
        let rules = F.minimal(engagement: [F.rule("p", .event("P"), 10, max: 10, intent: true)],
                              onIntent: .init(minStage: .lead, suppressFor: TimeUnit.hour))
        let e = PartitionEngine(rules: rules)
        var s = F.Stream()
        #expect(e.feed(s.track("a", "P", at: F.t0)).map(\.id) == ["a:alert:intent:p:m1"])
        let out = e.feed(s.track("a", "P", at: F.t0 + TimeUnit.hour))            // 0 points, still a firing
        #expect(out.map(\.id) == ["a:alert:intent:p:m2"])
        #expect(abs(e.view("a").engagement - 10 * Double.exp2(-1.0 / 720)) < 1e-9)   // nothing added
        #expect(e.ruleFirings == [2])
    }

    @Test func requalifiedContactCanEnterMQLOnTheSameEvent() {
        let rules = F.minimal(engagement: [F.rule("r", .event("Requalified"), 60)],
                              enter: [.mql: .score(.total, NumberRange(gte: 50))],
                              disqualify: .init(when: .event("Disqualified"), until: .event("Requalified")),
                              onStages: [.mql])
        let e = PartitionEngine(rules: rules)
        var s = F.Stream()
        #expect(e.feed(s.track("a", "Disqualified", at: F.t0)).map(\.id) == ["a:stage:lead>disqualified:m1"])
        #expect(e.feed(s.track("a", "Requalified", at: F.t0)).map(\.id)
                == ["a:stage:disqualified>lead:m2", "a:stage:lead>mql:m2", "a:alert:stage:m2"])
    }
}
