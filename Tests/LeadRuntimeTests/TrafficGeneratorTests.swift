import Testing
import LeadScoring
@testable import LeadSim

@Suite struct TrafficGeneratorTests {
    @Test func sameSeedSameBytes() {
        var a = TrafficGenerator(seed: 9, contacts: 500)
        var b = TrafficGenerator(seed: 9, contacts: 500)
        var c = TrafficGenerator(seed: 10, contacts: 500)
        var differs = false
        for _ in 0..<2000 {
            let x = a.next(), y = b.next(), z = c.next()
            #expect(x.json == y.json)
            if x.json != z.json { differs = true }
        }
        #expect(differs)
    }

    @Test func everyEventDecodesAndTheMixIsRealistic() throws {
        var g = TrafficGenerator(seed: 1, contacts: 1000)
        var kinds: [SegmentEvent.Kind: Int] = [:]
        var perContact: [String: Int] = [:]
        var ids = Set<String>()
        var dups = 0
        var late = 0
        var newest: EventTime = .min
        let n = 20_000
        for _ in 0..<n {
            let e = g.next()
            let d = try SegmentDecoder.decode(e.json)
            #expect(d.contactId == e.contactId && d.messageId == e.messageId)
            kinds[d.kind, default: 0] += 1
            perContact[d.contactId, default: 0] += 1
            if !ids.insert(d.messageId).inserted { dups += 1 }
            if d.timestamp < newest { late += 1 } else { newest = d.timestamp }
        }
        #expect(kinds[.page, default: 0] > n / 5)
        #expect(kinds[.track, default: 0] > n / 5)
        #expect(kinds[.identify, default: 0] > 100)
        #expect(kinds[.group, default: 0] > 0 && kinds[.alias, default: 0] > 0)
        // Zipf: the most active contact has far more events than the median one.
        let counts = perContact.values.sorted()
        #expect(counts.last! > 20 * counts[counts.count / 2])
        // ~0.5 % duplicates and some late events.
        #expect(dups > n / 400 && dups < n / 100)
        #expect(late > n / 200)
    }
}
