import Foundation
import Testing
@testable import LeadScoring

/// The replay core: decoding lines, invalid lines, partitions, funnel report.
@Suite struct ReplaySessionTests {
    static let lines = [
        #"{"type":"identify","messageId":"a1","userId":"c1","timestamp":"2026-01-01T00:00:00Z","traits":{"title":"CTO","employees":500,"industry":"software"}}"#,
        #"{"type":"track","messageId":"b1","userId":"c2","timestamp":"2026-01-01T00:00:00Z","event":"Content Downloaded"}"#,
        #"{"type":"track","messageId":"b2","userId":"c2","timestamp":"2026-01-01T00:00:00Z","event":"Content Downloaded"}"#,
        "",
        #"{"type":"track","messageId":"b3","userId":"c2","timestamp":"2026-01-01T00:00:00Z","event":"Content Downloaded"}"#,
        "not json",
        #"{"type":"identify","messageId":"x1","userId":"c3","timestamp":"2026-01-01T00:00:00Z","traits":{"title":"Student"}}"#,
        #"{"type":"track","messageId":"a2","userId":"c1","timestamp":"2026-01-01T01:00:00Z","event":"Demo Requested"}"#,
        #"{"type":"track","messageId":"b4","userId":"c2","timestamp":"2026-01-01T02:00:00Z","event":"Demo Requested"}"#,
        #"{"type":"track","messageId":"b4","userId":"c2","timestamp":"2026-01-01T02:00:00Z","event":"Demo Requested"}"#,
        #"{"type":"group","messageId":"g1","userId":"c2","timestamp":"2026-01-01T02:00:00Z","groupId":"acme"}"#,
        #"{"type":"track","messageId":"a3","userId":"c1","timestamp":"2026-01-01T03:00:00Z","event":"Demo Requested"}"#,
    ]

    static func run(_ lines: [String], partitions: Int = 1) -> (ReplaySession, [OutputRecord]) {
        var session = ReplaySession(rules: Fixtures.exampleRules(), partitions: partitions)
        var out: [OutputRecord] = []
        for (n, l) in lines.enumerated() {
            var bytes = Array(l.utf8)
            bytes.withUnsafeMutableBytes { session.line(UnsafeRawBufferPointer($0), number: n + 1, into: &out) }
        }
        return (session, out)
    }

    @Test func countsAndRecordsInInputOrder() {
        let (s, out) = Self.run(Self.lines)
        #expect(s.events == 11 && s.invalid == 1 && s.duplicates == 1 && s.ignored == 1)
        #expect(s.invalidSamples.map(\.line) == [6])
        #expect(out.map(\.id) == ["c1:stage:lead>mql:a2", "c1:alert:intent:demo-request:a2",
                                  "c2:stage:lead>mql:b4", "c2:alert:intent:demo-request:b4",
                                  "c1:stage:mql>sql:a3", "c1:alert:stage:a3"])
        #expect(s.summary.hasPrefix("replay: 11 events, 1 invalid, 1 duplicates, 1 ignored, 3 contacts, 3 stage changes, 3 alerts"))
    }

    @Test func funnelReport() {
        let (s, _) = Self.run(Self.lines)
        let f = s.funnel()
        #expect(f.contacts == 3 && f.reachedMQL == 2 && f.reachedSQL == 1)
        #expect(f.contactsPerStage.first { $0.stage == .lead }?.contacts == 1)
        #expect(f.contactsPerStage.first { $0.stage == .sql }?.contacts == 1)
        #expect(f.medianLeadToMQL == 90 * TimeUnit.minute)
        #expect(f.medianMQLToSQL == 2 * TimeUnit.hour)
        #expect(f.topRules.first?.rule == "demo-request" && f.topRules.first?.firings == 3 && f.topRules.first?.points == 90)
        let text = s.reportText()
        #expect(text.contains("lead → MQL      66.7%"))
        #expect(text.contains("MQL → SQL         50%"))
        #expect(text.contains("01:30:00"))
        // Time in stage from the records (as leadscore_time_in_stage_seconds): c1 1 h and c2 2 h in lead, c1 2 h at mql.
        #expect(f.timeInStageBeforeMovingUp.map(\.stage) == [.lead, .mql])
        #expect(f.timeInStageBeforeMovingUp.map(\.moves) == [2, 1])
        #expect(f.timeInStageBeforeMovingUp.map(\.median) == [90 * TimeUnit.minute, 2 * TimeUnit.hour])
        #expect(text.contains("  lead         01:30:00  (2 moves)\n  mql          02:00:00  (1 move)\n"))
    }

    @Test func partitionsSplitByCRC32OfTheContactId() {
        let (one, outOne) = Self.run(Self.lines, partitions: 1)
        let (four, outFour) = Self.run(Self.lines, partitions: 4)
        #expect(four.engines.count == 4)
        for c in ["c1", "c2", "c3"] {
            let p = Partitioner.partition(key: c, count: 4)
            #expect(four.engines[p].contact(c) != nil)
            #expect(four.partition(of: c) == p)
        }
        #expect(one.contacts == four.contacts)
        #expect(Set(outOne.map(\.id)) == Set(outFour.map(\.id)))
    }

    @Test func exampleEventsReplayTwiceByteIdentical() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("examples/events.jsonl"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let (a, outA) = Self.run(lines, partitions: 3)
        let (_, outB) = Self.run(lines, partitions: 3)
        #expect(a.invalid < a.events)
        #expect(!outA.isEmpty)
        #expect(outA == outB)
        #expect(Set(outA.map(\.id)).count == outA.count)
    }

    @Test func internalHashIsTheStableHash() {
        for s in ["", "a", "user-123", "m2026-17", "é😀", String(repeating: "x", count: 100)] {
            #expect(engineFNV1a64(s) == StableHash.fnv1a64(s))
        }
    }
}
