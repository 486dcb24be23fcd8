import Testing
@testable import LeadScoring

/// Checkpoint encode → restore → continue gives the same outputs as an uninterrupted run.
@Suite struct CheckpointTests {
    @Test(arguments: [21, 22, 23] as [UInt64])
    func restoredEngineContinuesByteIdentically(seed: UInt64) throws {
        let rules = Fixtures.exampleRules()
        let events = RandomStream.make(seed: seed, n: 4000, contacts: 60, spanDays: 120, duplicates: true)
        let cut = events.count / 2
        let whole = PartitionEngine(rules: rules)
        var wholeOut: [OutputRecord] = []
        var first = PartitionEngine(rules: rules)
        var ignore: [OutputRecord] = []
        for (i, ev) in events.enumerated() {
            if i == cut { ignore.removeAll() ; wholeOut.removeAll() }
            _ = whole.apply(ev, trigger: Trigger(messageId: ev.messageId), into: &wholeOut)
            if i < cut { _ = first.apply(ev, trigger: Trigger(messageId: ev.messageId), into: &ignore) }
        }
        // Checkpoint: every dirty contact plus the partition state.
        let dirty = first.takeDirtyContactIDs()
        #expect(dirty.count == first.contactCount)
        #expect(first.takeDirtyContactIDs().isEmpty)
        let restored = PartitionEngine(rules: rules)
        for id in dirty { try restored.restoreContact(id: id, bytes: first.encodeContact(id)!) }
        try restored.restorePartitionState(first.encodePartitionState())
        first = restored
        #expect(restored.encodeContact("nobody") == nil)
        var restoredOut: [OutputRecord] = []
        for ev in events[cut...] { _ = restored.apply(ev, trigger: Trigger(messageId: ev.messageId), into: &restoredOut) }
        #expect(!wholeOut.isEmpty)
        #expect(restoredOut == wholeOut)
        for id in whole.contactIDs { #expect(whole.encodeContact(id) == restored.encodeContact(id)) }
        // The batch encoder (checkpoints) gives the same bytes in order, and an empty state for an unknown id.
        let ids = whole.contactIDs + ["nobody"]
        let batch = whole.encodeContacts(ids)
        #expect(batch.map(\.id) == ids)
        #expect(batch.map(\.state) == ids.map { whole.encodeContact($0) ?? [] })
        #expect(batch.last?.state == [])
        var streamed: [EncodedContact] = []
        whole.forEachEncodedContact(ids) { id, bytes in streamed.append((id, Array(bytes))) }
        #expect(streamed.map(\.id) == ids && streamed.map(\.state) == batch.map(\.state))
        #expect(Set(batch.dropLast().map(\.state.count)).count > 1, "contacts of different sizes, each copied exactly")
    }

    @Test func stateCarriesOverByRuleNameWhenRulesChange() throws {
        let old = PartitionEngine(rules: Fixtures.exampleRules(version: "old"))
        var s = Fixtures.Stream()
        old.feed(s.track("a", "Demo Requested", at: Fixtures.t0, traits: [("title", .string("CEO")), ("employees", .number(80))]))
        var newRules = Fixtures.exampleRules(version: "new")
        newRules.engagement.swapAt(0, 2)                                 // demo-request moved
        newRules.fit.remove(at: 0)                                       // decision-maker gone
        newRules.stages.enter[.sql] = .all([.score(.total, NumberRange(gte: 80)),
                                            .count(rule: 0, range: NumberRange(gte: 1), within: 30 * TimeUnit.day)])
        let new = PartitionEngine(rules: newRules)
        try new.restoreContact(id: "a", bytes: old.encodeContact("a")!)
        let v = new.view("a")
        #expect(v.engagement == 30 && v.fit == 10)
        #expect(v.topRules.map(\.rule) == ["demo-request", "company-50-plus"])
        #expect(throws: CheckpointError.self) { try new.restoreContact(id: "b", bytes: old.encodeContact("a")!) }
        #expect(throws: CheckpointError.self) { try new.restoreContact(id: "a", bytes: Array(old.encodeContact("a")!.dropLast())) }
    }
}

@Test func contactFixedPartFitsOneCacheLine() {
    #expect(MemoryLayout<ContactState>.stride <= 64)
}
