import Testing
@testable import LeadScoring

/// Seeded SplitMix64: deterministic random streams for property tests.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum RandomStream {
    static let names = ["Content Downloaded", "Demo Requested", "Email Opened", "Unsubscribed", "Lead Accepted",
                        "Opportunity Created", "Deal Won", "Lead Disqualified", "Lead Requalified", "Other"]
    static let paths = ["/pricing", "/pricing/team", "/docs", "/blog/x", "/"]
    static let titles = ["CEO", "Head of Growth", "Engineer", "Student", "VP Sales"]
    static let industries = ["software", "saas", "education", "retail"]

    /// `n` events over `contacts` contacts and `spanDays` of event time, with some out-of-order times.
    static func make(seed: UInt64, n: Int, contacts: Int, spanDays: Int, duplicates: Bool = false) -> [SegmentEvent] {
        var rng = SeededRandom(seed: seed)
        var out: [SegmentEvent] = []
        let span = Int64(spanDays) * TimeUnit.day
        for i in 0..<n {
            let c = "c\(Int.random(in: 0..<contacts, using: &rng))"
            var t = Fixtures.t0 + span * Int64(i) / Int64(max(n, 1))
            if Int.random(in: 0..<5, using: &rng) == 0 { t -= Int64.random(in: 0...(3 * TimeUnit.day), using: &rng) }
            var id = "e\(i)"
            if duplicates && i > 0 && Int.random(in: 0..<20, using: &rng) == 0 { id = "e\(Int.random(in: 0..<i, using: &rng))" }
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<5:
                out.append(SegmentEvent(kind: .track, messageId: id, contactId: c, timestamp: t,
                                        eventName: names.randomElement(using: &rng)!))
            case 5..<8:
                out.append(SegmentEvent(kind: .page, messageId: id, contactId: c, timestamp: t,
                                        pagePath: paths.randomElement(using: &rng)!))
            default:
                out.append(SegmentEvent(kind: .identify, messageId: id, contactId: c, timestamp: t, traits: [
                    (name: "title", value: .string(titles.randomElement(using: &rng)!)),
                    (name: "employees", value: .number(Double(Int.random(in: 1...500, using: &rng)))),
                    (name: "industry", value: .string(industries.randomElement(using: &rng)!)),
                ]))
            }
        }
        return out
    }

    static func run(_ rules: Rules, _ events: [SegmentEvent]) -> (PartitionEngine, [OutputRecord]) {
        let e = PartitionEngine(rules: rules)
        var out: [OutputRecord] = []
        for ev in events { _ = e.apply(ev, trigger: Trigger(messageId: ev.messageId), into: &out) }
        return (e, out)
    }
}

@Suite struct PropertyTests {
    /// The example rules without `limit` and `max_points`.
    static func unlimitedRules() -> Rules {
        var r = Fixtures.exampleRules()
        for i in r.engagement.indices { r.engagement[i].limit = nil; r.engagement[i].maxPoints = nil }
        return r
    }

    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func engagementDoesNotDependOnArrivalOrder(seed: UInt64) {
        let events = RandomStream.make(seed: seed, n: 600, contacts: 12, spanDays: 90)
        var rng = SeededRandom(seed: seed &* 7919)
        let shuffled = events.shuffled(using: &rng)
        let (a, _) = RandomStream.run(Self.unlimitedRules(), events)
        let (b, _) = RandomStream.run(Self.unlimitedRules(), shuffled)
        #expect(a.watermark == b.watermark)
        #expect(a.contactCount == b.contactCount)
        for id in a.contactIDs {
            let x = a.contact(id)!, y = b.contact(id)!
            let scale = max(1, abs(x.engagement))
            #expect(abs(x.engagement - y.engagement) <= 1e-9 * scale, "\(id): \(x.engagement) vs \(y.engagement)")
            #expect(x.fit == y.fit)
        }
    }

    @Test(arguments: [11, 12, 13] as [UInt64])
    func sameInputGivesByteIdenticalOutputAndUniqueIds(seed: UInt64) {
        let events = RandomStream.make(seed: seed, n: 3000, contacts: 40, spanDays: 120, duplicates: true)
        let (_, a) = RandomStream.run(Fixtures.exampleRules(), events)
        let (_, b) = RandomStream.run(Fixtures.exampleRules(), events)
        #expect(!a.isEmpty)
        #expect(a == b)
        #expect(Set(a.map(\.id)).count == a.count)
        #expect(a.contains { $0.id.contains(":stage:mql>lead:") })
        #expect(a.contains { $0.kind == .alert })
    }
}

@Suite struct ExampleRulesCrossCheckTests {
    /// The YAML example (`Rules.example`, via the loader) and the Swift-built fixture score alike.
    @Test func loadedExampleRulesScoreLikeTheFixture() {
        let events = RandomStream.make(seed: 99, n: 3000, contacts: 50, spanDays: 90, duplicates: true)
        let (_, a) = RandomStream.run(Rules.example, events)
        let (_, b) = RandomStream.run(Fixtures.exampleRules(version: Rules.example.version), events)
        #expect(!a.isEmpty)
        #expect(a == b)
    }
}
