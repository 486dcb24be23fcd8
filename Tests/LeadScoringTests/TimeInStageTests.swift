import Foundation
import Testing
@testable import LeadScoring

/// `OutputRecord.timeInPreviousStage`: event time spent in the stage a record leaves (hand-computed), kept
/// across checkpoints, unknown after restoring a format-1 checkpoint, and never part of the record bytes.
@Suite struct TimeInStageTests {
    typealias F = Fixtures
    let day = TimeUnit.day
    let hour = TimeUnit.hour
    let second = TimeUnit.second

    func stageRecords(_ out: [OutputRecord]) -> [OutputRecord] { out.filter { $0.kind == .stageChange } }

    @Test func leadToMQLThenMQLToSQLMeasureFromCreationThenFromEnteringMQL() {
        let e = PartitionEngine(rules: F.exampleRules())
        var s = F.Stream()
        #expect(e.feed(s.page("a", "/docs", at: F.t0)).isEmpty)                  // created at lead, t0
        let mql = F.toMQL(e, &s, "a", at: F.t0 + 5400 * second)
        #expect(mql.map(\.id) == ["a:stage:lead>mql:m5", "a:alert:intent:demo-request:m5"])
        #expect(mql[0].timeInPreviousStage == 5400 * second)
        #expect(mql[1].timeInPreviousStage == nil)                               // alerts carry none
        // Two hours later a second demo: ≈ 89.99 with a demo within 30 d → sql.
        let sql = e.feed(s.track("a", "Demo Requested", at: F.t0 + 5400 * second + 2 * hour))
        #expect(sql.map(\.id) == ["a:stage:mql>sql:m6", "a:alert:stage:m6"])
        #expect(sql[0].timeInPreviousStage == 2 * hour)
    }

    @Test func skippingFromLeadToSQLIsTheWholeTimeInLead() {
        let e = PartitionEngine(rules: F.exampleRules())
        var s = F.Stream()
        e.feed(s.page("a", "/docs", at: F.t0))                                   // created at lead, t0
        #expect(e.feed(s.track("a", "Content Downloaded", at: F.t0 + hour)).isEmpty)
        #expect(e.feed(s.track("a", "Content Downloaded", at: F.t0 + hour)).isEmpty)   // 20 < 50
        // fit 35 + ≈ 19.96 + 30 ≥ 80 with a demo: lead → sql in one record, 3 h after creation.
        let out = e.feed(s.track("a", "Demo Requested", at: F.t0 + 3 * hour, traits: [
            ("title", .string("CTO")), ("employees", .number(500)), ("industry", .string("software"))]))
        #expect(out.map(\.id) == ["a:stage:lead>sql:m4", "a:alert:stage:m4"])
        #expect(out[0].timeInPreviousStage == 3 * hour)
    }

    @Test func disqualifyAndRequalifyRestartTheClock() {
        let e = PartitionEngine(rules: F.exampleRules())
        var s = F.Stream()
        #expect(stageRecords(F.toMQL(e, &s, "d", at: F.t0)).map(\.timeInPreviousStage) == [0])   // created and mql at t0
        let dq = e.feed(s.track("d", "Lead Disqualified", at: F.t0 + hour))
        #expect(dq.map(\.id) == ["d:stage:mql>disqualified:m5"])
        #expect(dq[0].timeInPreviousStage == hour)
        #expect(e.feed(s.track("d", "Demo Requested", at: F.t0 + 2 * hour)).isEmpty)
        let rq = e.feed(s.track("d", "Lead Requalified", at: F.t0 + 4 * hour))
        #expect(rq.map(\.id) == ["d:stage:disqualified>lead:m7", "d:stage:lead>sql:m7", "d:alert:stage:m7"])
        #expect(rq.map(\.timeInPreviousStage) == [3 * hour, 0, nil])             // lead entered and left at once
    }

    /// The µs crossing moment exactly as the engine computes it (60 points, below 25, 30 d half-life).
    func crossing(from t: EventTime, engagement: Double) -> EventTime {
        EventTime((Double(t) + Double(30 * day) * log2(engagement / (25 - 1e-9))).rounded(.down))
    }

    @Test func recycleByTimeEndsTheStageAtTheCrossingMoment() {
        let e = PartitionEngine(rules: F.exampleRules())
        var s = F.Stream()
        _ = F.toMQL(e, &s, "x", at: F.t0)                                          // mql at t0, crosses 25 at ≈ 37.89 d
        let out = e.feed(s.track("z", "Other", at: F.t0 + 40 * day, id: "late-z"))
        #expect(out.map(\.id) == ["x:stage:mql>lead:late-z"])
        let inMQL = try! #require(out[0].timeInPreviousStage)
        let expected = crossing(from: F.t0, engagement: 60) - F.t0
        #expect(abs(inMQL - expected) <= 1)                                      // floating floor, ±1 µs
        #expect(inMQL > 37 * day && inMQL < 38 * day)
        #expect(out[0].text.contains("\"at\":\"\(ISO8601.formatMillis(F.t0 + inMQL))\""))  // = the record's `at`
        // Back in lead since the crossing: a demo at 41 d (≈ 23.3 + 30 ≥ 50) re-enters mql.
        let again = e.feed(s.track("x", "Demo Requested", at: F.t0 + 41 * day))
        #expect(again.first?.id == "x:stage:lead>mql:m5")
        #expect(again.first?.timeInPreviousStage == F.t0 + 41 * day - (F.t0 + inMQL))
    }

    @Test func checkpointRoundTripKeepsTheEntryTime() throws {
        let rules = F.exampleRules()
        let a = PartitionEngine(rules: rules)
        var s = F.Stream()
        a.feed(s.page("never-moved", "/docs", at: F.t0))
        _ = F.toMQL(a, &s, "moved", at: F.t0 + hour)
        let b = PartitionEngine(rules: rules)
        for id in a.takeDirtyContactIDs() { try b.restoreContact(id: id, bytes: a.encodeContact(id)!) }
        try b.restorePartitionState(a.encodePartitionState())
        for id in ["never-moved", "moved"] { #expect(b.encodeContact(id) == a.encodeContact(id)) }
        // never-moved: in lead since creation (t0); moved: in mql since t0 + 1 h.
        let lead = F.toMQL(b, &s, "never-moved", at: F.t0 + 10 * hour)
        #expect(lead.first?.id == "never-moved:stage:lead>mql:m9")
        #expect(lead.first?.timeInPreviousStage == 10 * hour)
        let mql = b.feed(s.track("moved", "Lead Accepted", at: F.t0 + 5 * hour))
        #expect(mql.map(\.id) == ["moved:stage:mql>sal:m10"])
        #expect(mql[0].timeInPreviousStage == 4 * hour)
    }

    /// A contact as checkpoint format 1 wrote it (before entry times): at mql since an unknown time, after
    /// content ×3 and a demo at t0 (the fields of `encodeContact` in that format, in order). Format 2 adds
    /// the time it entered mql (`enteredMQL`) after the stage byte.
    static func formatOneContact(id: String, rulesVersion: String, format: UInt8 = 1, enteredMQL: EventTime = 0) -> [UInt8] {
        var w = BinaryWriter()
        w.u8(format)
        w.string(rulesVersion)
        w.string(id)
        w.i64(Fixtures.t0); w.f64(0); w.u64(0)                                   // newest, fit, fit mask
        w.i64(Fixtures.t0); w.i64(Fixtures.t0)                                   // last alert, last points change
        w.i64(EventTime((Double(Fixtures.t0) + Double(30 * TimeUnit.day) * log2(60 / (25 - 1e-9))).rounded(.down)))
        w.u8(UInt8(Stage.mql.rawValue))
        if format >= 2 { w.i64(enteredMQL) }
        w.count(0)                                                               // traits
        w.count(0)                                                               // trait test bits
        w.count(2)                                                               // rule slots
        w.string("content-download"); w.f64(30); w.f64(30)
        w.string("demo-request"); w.f64(30); w.f64(30)
        w.count(1); w.string("demo-request"); w.i64(Fixtures.t0)                 // firings
        w.count(1); w.u64(StableHash.fnv1a64("m4")); w.i64(Fixtures.t0)         // seen ids
        return w.bytes
    }

    @Test func formatOneCheckpointRestoresWithTheEntryTimeUnknown() throws {
        let e = PartitionEngine(rules: F.exampleRules())
        try e.restoreContact(id: "old", bytes: Self.formatOneContact(id: "old", rulesVersion: "v-test"))
        let v = e.view("old")
        #expect(v.stage == .mql && v.engagement == 60)
        var s = F.Stream()
        s.n = 100
        // Another demo 2 h later → sql: how long it was at mql is unknown, so no time in stage…
        let sql = e.feed(s.track("old", "Demo Requested", at: F.t0 + 2 * hour))
        #expect(sql.map(\.id) == ["old:stage:mql>sql:m101", "old:alert:stage:m101"])
        #expect(sql[0].timeInPreviousStage == nil)
        // … but from that transition on it is known again.
        let opp = e.feed(s.track("old", "Opportunity Created", at: F.t0 + 5 * hour))
        #expect(opp.map(\.id) == ["old:stage:sql>opportunity:m102"])
        #expect(opp[0].timeInPreviousStage == 3 * hour)
        // Re-encoded in the current format, the restored contact keeps that entry time.
        let again = PartitionEngine(rules: F.exampleRules())
        try again.restoreContact(id: "old", bytes: e.encodeContact("old")!)
        #expect(again.encodeContact("old") == e.encodeContact("old"))
        #expect(again.encodeContact("old")?.first == 3)
        #expect(throws: CheckpointError.self) {
            var future = Self.formatOneContact(id: "old", rulesVersion: "v-test")
            future[0] = 4
            try again.restoreContact(id: "old", bytes: future)
        }
    }

    /// Format 2 (names spelled out, with the entry time) still restores: the same contact as format 3 gives.
    @Test func formatTwoCheckpointRestoresLikeTheCompactFormat() throws {
        let named = PartitionEngine(rules: F.exampleRules())
        try named.restoreContact(id: "old", bytes: Self.formatOneContact(id: "old", rulesVersion: "v-test", format: 2,
                                                                         enteredMQL: F.t0 - 3 * hour))
        #expect(throws: CheckpointError.self) {
            try PartitionEngine(rules: F.exampleRules()).restoreContact(id: "other", bytes: Self.formatOneContact(id: "old", rulesVersion: "v-test", format: 2))
        }
        let compact = PartitionEngine(rules: F.exampleRules())
        try compact.restoreContact(id: "old", bytes: named.encodeContact("old")!)
        #expect(compact.encodeContact("old") == named.encodeContact("old"))
        var s = F.Stream()
        s.n = 100
        let a = named.feed(s.track("old", "Demo Requested", at: F.t0 + 2 * hour))
        s.n = 100
        let b = compact.feed(s.track("old", "Demo Requested", at: F.t0 + 2 * hour))
        #expect(a.map(\.id) == ["old:stage:mql>sql:m101", "old:alert:stage:m101"] && a == b)
        #expect(a[0].timeInPreviousStage == 5 * hour)
    }

    @Test func everyStageRecordOfARandomStreamHasANonNegativeTime() {
        let e = PartitionEngine(rules: F.exampleRules())
        var out: [OutputRecord] = []
        for ev in RandomStream.make(seed: 7, n: 3000, contacts: 40, spanDays: 90) {
            _ = e.apply(ev, trigger: Trigger(messageId: ev.messageId), into: &out)
        }
        let stages = stageRecords(out)
        #expect(stages.count > 20)
        #expect(stages.allSatisfy { ($0.timeInPreviousStage ?? -1) >= 0 })
        #expect(out.filter { $0.kind == .alert }.allSatisfy { $0.timeInPreviousStage == nil })
        #expect(stages.contains { ($0.timeInPreviousStage ?? 0) > day })
    }
}
