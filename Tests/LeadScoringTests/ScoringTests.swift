import Testing
@testable import LeadScoring

/// Points: caps, limits, decay, late events, clamp (CONTRACTS §3), hand-computed.
@Suite struct ScoringTests {
    typealias F = Fixtures
    let day = TimeUnit.day

    @Test func maxPointsCapsTheLifetimeAbsoluteSumAndCappedFiringsStillFire() {
        let eng = [F.rule("dl", .event("DL"), 10, max: 25), F.rule("neg", .event("Neg"), -20, max: 30)]
        let e = PartitionEngine(rules: F.minimal(engagement: eng))
        var s = F.Stream()
        for _ in 0..<4 { e.feed(s.track("a", "DL", at: F.t0)) }
        #expect(e.view("a").engagement == 25)           // 10 + 10 + 5 + 0
        #expect(e.ruleFirings[0] == 4)
        #expect(e.ruleAwarded[0] == 25)
        for _ in 0..<3 { e.feed(s.track("a", "Neg", at: F.t0)) }
        #expect(e.view("a").engagement == 25 - 30)      // −20, −10, 0
        // The cap is on undecayed points: a month later the rule still awards nothing.
        e.feed(s.track("a", "DL", at: F.t0 + 30 * day))
        #expect(abs(e.view("a").engagement - (-5) / 2) < 1e-9)
    }

    @Test func limitCountsEarlierFiringsInTheRollingWindow() {
        let eng = [F.rule("pricing", .event("P"), 5, limit: RateLimit(count: 3, per: TimeUnit.day))]
        let e = PartitionEngine(rules: F.minimal(engagement: eng, halfLife: 100_000 * day))
        var s = F.Stream()
        let h = TimeUnit.hour
        for t in [F.t0, F.t0 + h, F.t0 + 2 * h, F.t0 + 3 * h] { e.feed(s.track("a", "P", at: t)) }
        #expect(e.ruleFirings[0] == 3)                 // the 4th is blocked (no firing)
        // exactly one day after the first: window (t − 1d, t] holds 2 firings → fires
        e.feed(s.track("a", "P", at: F.t0 + day))
        #expect(e.ruleFirings[0] == 4)
        e.feed(s.track("a", "P", at: F.t0 + day))      // now 1h, 2h, 1d in window → blocked
        #expect(e.ruleFirings[0] == 4)
        // a late event is limited by firings around its own time: (t0 − 1d + 1µs… t0 − 1µs]... none → fires
        e.feed(s.track("a", "P", at: F.t0 - 1))
        #expect(e.ruleFirings[0] == 5)
    }

    @Test func tenPointsOneHalfLifeLaterAreFive() {
        let eng = [F.rule("dl", .event("DL"), 10)]
        let e = PartitionEngine(rules: F.minimal(engagement: eng))
        var s = F.Stream()
        e.feed(s.track("a", "DL", at: F.t0))
        #expect(e.view("a").engagement == 10)
        e.feed(s.track("b", "Other", at: F.t0 + 30 * day))   // moves the watermark; `a` untouched
        #expect(abs(e.view("a").engagement - 5) < 1e-12)
        e.feed(s.track("a", "Other", at: F.t0 + 60 * day))
        #expect(abs(e.view("a").engagement - 2.5) < 1e-12)
    }

    @Test func lateEventsAddTheirDecayedValue() {
        let eng = [F.rule("dl", .event("DL"), 10)]
        let e = PartitionEngine(rules: F.minimal(engagement: eng))
        var s = F.Stream()
        e.feed(s.track("a", "DL", at: F.t0 + 30 * day))
        e.feed(s.track("a", "DL", at: F.t0))                 // one half-life older: adds 5
        #expect(abs(e.view("a").engagement - 15) < 1e-12)
        #expect(e.view("a").lastEventTime == F.t0 + 30 * day)
    }

    @Test func totalIsClampedButFitAndEngagementAreNot() {
        let fit = [FitRule(name: "f", when: .trait("x", .exists), points: 150)]
        let eng = [F.rule("dl", .event("DL"), 100)]
        let e = PartitionEngine(rules: F.minimal(fit: fit, engagement: eng, scoreMin: -10, scoreMax: 200))
        var s = F.Stream()
        e.feed(s.track("a", "DL", at: F.t0, traits: [("x", .bool(true))]))
        let v = e.view("a")
        #expect(v.total == 200 && v.fit == 150 && v.engagement == 100)
    }

    @Test func gradesAndTopRules() {
        let e = PartitionEngine(rules: F.exampleRules())
        var s = F.Stream()
        // fit 15 + 10 + 10 = 35 → A; engagement 30 → 2
        e.feed(s.track("a", "Demo Requested", at: F.t0,
                       traits: [("title", .string("VP Sales")), ("employees", .number(60)), ("industry", .string("saas"))]))
        let v = e.view("a")
        #expect(v.grade == "A2")
        #expect(v.topRules.map(\.rule) == ["demo-request", "decision-maker", "company-50-plus"])
        // B: decision-maker only; C: generic email; engagement 1 at ≥ 60
        e.feed(s.identify("b", at: F.t0, [("title", .string("CEO"))]))
        #expect(e.view("b").grade == "B3")
        e.feed(s.identify("c", at: F.t0, [("email", .string("x@gmail.com"))]))
        e.feed(s.track("c", "Demo Requested", at: F.t0))
        e.feed(s.track("c", "Demo Requested", at: F.t0))
        #expect(e.view("c").grade == "C1")
        #expect(e.view("c").topRules.map(\.rule) == ["demo-request", "generic-email"])
        #expect(e.view("c").topRules.map(\.points) == [60, -10])
    }
}
