import Testing
@testable import LeadScoring

/// Every condition type of CONTRACTS §3, hand-computed.
@Suite struct ConditionTests {
    typealias F = Fixtures

    @Test func traitConditionsOnFitRules() throws {
        let fit: [FitRule] = [
            FitRule(name: "eq", when: .trait("plan", .eq(.string("Pro"))), points: 1),
            FitRule(name: "gte", when: .trait("employees", .range(NumberRange(gte: 50))), points: 2),
            FitRule(name: "lte", when: .trait("employees", .range(NumberRange(lte: 200))), points: 4),
            FitRule(name: "exists", when: .trait("phone", .exists), points: 8),
            FitRule(name: "in", when: .trait("country", .oneOf([.string("fr"), .string("de")])), points: 16),
            FitRule(name: "not", when: .not(.trait("title", .matches(try Pattern("(?i)intern")))), points: 32),
            FitRule(name: "all", when: .all([.trait("plan", .eq(.string("Pro"))),
                                              .trait("employees", .range(NumberRange(gte: 100)))]), points: 64),
            FitRule(name: "any", when: .any([.trait("plan", .eq(.string("Basic"))), .trait("phone", .exists)]), points: 128),
            FitRule(name: "eq-number", when: .trait("seats", .eq(.number(5))), points: 256),
        ]
        let e = PartitionEngine(rules: F.minimal(fit: fit))
        var s = F.Stream()
        e.feed(s.identify("a", at: F.t0, [("plan", .string("Pro")), ("employees", .number(120)), ("phone", .string("1")),
                                          ("country", .string("fr")), ("title", .string("CEO")), ("seats", .number(5))]))
        #expect(e.view("a").fit == 1 + 2 + 4 + 8 + 16 + 32 + 64 + 128 + 256)

        // Case-sensitive strings, a string "120" is not a number, missing traits are false, matches is a search.
        e.feed(s.identify("b", at: F.t0, [("plan", .string("pro")), ("employees", .string("120")), ("country", .string("us")),
                                          ("title", .string("Marketing intern")), ("seats", .string("5"))]))
        #expect(e.view("b").fit == 0)
        // `not` on a missing trait holds (the inner condition is false).
        e.feed(s.identify("c", at: F.t0, [("country", .string("de"))]))
        #expect(e.view("c").fit == 16 + 32)
        // lte bound inclusive with tolerance; null counts as absent.
        e.feed(s.identify("d", at: F.t0, [("employees", .number(200)), ("phone", .null)]))
        #expect(e.view("d").fit == 2 + 4 + 32)
    }

    /// A fit rule that holds without traits (`not`) counts from the contact's first event, whatever it is —
    /// not only once some trait test's result changes.
    @Test func fitRuleHoldingWithoutTraitsCountsFromTheFirstEvent() throws {
        let fit = [FitRule(name: "not-student", when: .not(.trait("title", .matches(try Pattern("(?i)student")))), points: 10)]
        let e = PartitionEngine(rules: F.minimal(fit: fit))
        var s = F.Stream()
        e.feed(s.track("a", "Anything", at: F.t0))                                   // no traits at all
        #expect(e.view("a").fit == 10)
        #expect(e.view("a").topRules.map { $0.rule } == ["not-student"])
        e.feed(s.identify("b", at: F.t0, [("title", .string("CTO"))]))               // a trait no test matches
        #expect(e.view("b").fit == 10)
        e.feed(s.identify("b", at: F.t0 + 1, [("title", .string("Student"))]))
        #expect(e.view("b").fit == 0)
        e.feed(s.identify("c", at: F.t0, [("title", .string("PhD student"))]))      // fails from the start
        #expect(e.view("c").fit == 0)
    }

    @Test func latestTraitValueWinsByEventTimeAndArrivalOnTies() {
        let fit = [FitRule(name: "pro", when: .trait("plan", .eq(.string("Pro"))), points: 10)]
        let e = PartitionEngine(rules: F.minimal(fit: fit))
        var s = F.Stream()
        e.feed(s.identify("a", at: F.t0 + 10, [("plan", .string("Pro"))]))
        e.feed(s.identify("a", at: F.t0 + 5, [("plan", .string("Basic"))]))      // older: ignored
        #expect(e.view("a").fit == 10)
        e.feed(s.identify("a", at: F.t0 + 10, [("plan", .string("Basic"))]))     // same time, later arrival: wins
        #expect(e.view("a").fit == 0)
        // context.traits of a track event count too
        e.feed(s.track("a", "Anything", at: F.t0 + 11, traits: [("plan", .string("Pro"))]))
        #expect(e.view("a").fit == 10)
    }

    @Test func eventAndPageConditions() throws {
        let eng = [
            F.rule("ev", .event("Demo Requested"), 1),
            F.rule("pg", .page(try Pattern("^/pricing")), 10),
        ]
        let e = PartitionEngine(rules: F.minimal(engagement: eng))
        var s = F.Stream()
        e.feed(s.track("a", "Demo Requested", at: F.t0))
        e.feed(s.track("a", "demo requested", at: F.t0))                  // case-sensitive
        e.feed(s.page("a", "/pricing/team", at: F.t0))
        e.feed(s.page("a", "/docs/pricing", at: F.t0))                    // anchored regex: no
        e.feed(s.page("a", nil, at: F.t0))                                // no path: no match
        e.feed(s.screen("a", "/pricing", at: F.t0))                       // screen never matches
        e.feed(SegmentEvent(kind: .identify, messageId: "x1", contactId: "a", timestamp: F.t0, eventName: "Demo Requested"))
        #expect(e.view("a").engagement == 11)
        #expect(e.ruleFirings == [1, 1])
    }

    @Test func scoreConditionsSeeTheStateBeforeThisEventsFirings() {
        // "bonus" fires when engagement is already ≥ 10 before the event's own firings.
        let eng = [
            F.rule("base", .event("E"), 10),
            F.rule("bonus", .all([.event("E"), .score(.engagement, NumberRange(gte: 10))]), 1),
        ]
        let e = PartitionEngine(rules: F.minimal(engagement: eng))
        var s = F.Stream()
        e.feed(s.track("a", "E", at: F.t0))
        #expect(e.view("a").engagement == 10)        // bonus did not see base's points of the same event
        e.feed(s.track("a", "E", at: F.t0))
        #expect(e.view("a").engagement == 21)
    }

    @Test func fitAndTotalScoreConditionsWithTolerance() {
        let fit = [FitRule(name: "f", when: .trait("x", .exists), points: 0.1 + 0.2)]   // 0.30000000000000004
        let e = PartitionEngine(rules: F.minimal(fit: fit, enter: [
            .mql: .score(.fit, NumberRange(gte: 0.3, lte: 0.3)),
            .sal: .score(.total, NumberRange(gte: 0.3000000005)),                      // within 1e-9 too
        ]))
        var s = F.Stream()
        let out = e.feed(s.identify("a", at: F.t0, [("x", .bool(true))]))
        #expect(out.map(\.id) == ["a:stage:lead>sal:m1"])
    }

    @Test func countConditionWindowIsHalfOpen() {
        let eng = [F.rule("demo", .event("Demo"), 0)]
        let e = PartitionEngine(rules: F.minimal(engagement: eng, enter: [
            .mql: .count(rule: 0, range: NumberRange(gte: 2), within: TimeUnit.day),
        ]))
        var s = F.Stream()
        e.feed(s.track("a", "Demo", at: F.t0))
        // second firing exactly one day later: window (T − 1d, T] excludes the first
        #expect(e.feed(s.track("a", "Demo", at: F.t0 + TimeUnit.day)).isEmpty)
        let out = e.feed(s.track("a", "Demo", at: F.t0 + TimeUnit.day + 1))
        #expect(out.map(\.id) == ["a:stage:lead>mql:m3"])
    }
}
