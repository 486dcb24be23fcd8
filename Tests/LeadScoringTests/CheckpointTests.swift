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
        // The base-checkpoint stream: every contact once, in creation order, with the same bytes.
        var streamed: [EncodedContact] = []
        whole.forEachEncodedContact { id, bytes in streamed.append((id, Array(bytes))) }
        #expect(streamed.map(\.id) == whole.contactIDs && streamed.map(\.state) == batch.dropLast().map(\.state))
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
        #expect(throws: CheckpointError.self) { try new.restoreContact(id: "a", bytes: Array(old.encodeContact("a")!.dropLast())) }
    }

    /// Format 3 stores names as 64-bit hashes: no rule, trait or test name (nor the id, which the checkpoint
    /// file or changelog key carries) appears in the bytes, and they are well under half of format 2's.
    @Test func compactFormatSpellsOutNoName() throws {
        let e = PartitionEngine(rules: Fixtures.exampleRules())
        var s = Fixtures.Stream()
        e.feed(s.identify("someone@example.com", at: Fixtures.t0, [("title", .string("VP Sales")), ("employees", .number(80)),
                                                                     ("industry", .string("software")), ("email", .string("x@gmail.com"))]))
        e.feed(s.track("someone@example.com", "Content Downloaded", at: Fixtures.t0 + 1))
        e.feed(s.page("someone@example.com", "/pricing", at: Fixtures.t0 + 2))
        let bytes = try #require(e.encodeContact("someone@example.com"))
        #expect(bytes.first == 3)
        let text = String(decoding: bytes, as: UTF8.self)
        for name in ["someone", "content-download", "pricing-page", "title", "employees", "industry", "email", "matches"] {
            #expect(!text.contains(name), "\(name) spelled out")
        }
        // Format, rules hash, 38 fixed (no extras); 4 traits × 16; 4 test bits × 8 (decision-maker, 50+,
        // target industry, generic e-mail); 2 slots × 24; 1 firing × 16 (pricing has a limit); 3 seen × 16; 5 counts.
        #expect(bytes.count == 1 + 8 + 38 + 4 * 16 + 4 * 8 + 2 * 24 + 1 * 16 + 3 * 16 + 5)
        let again = PartitionEngine(rules: Fixtures.exampleRules())
        try again.restoreContact(id: "someone@example.com", bytes: bytes)
        #expect(again.encodeContact("someone@example.com") == bytes)
        let (v, w) = (again.view("someone@example.com"), e.view("someone@example.com"))
        #expect(v.stage == w.stage && v.total == w.total && v.fit == 25 && abs(v.engagement - 15) < 1e-6)
        #expect(v.topRules.map(\.rule) == w.topRules.map(\.rule))
    }

    /// Damaged contact bytes (every truncation, every byte changed) throw or restore something; never trap.
    @Test func damagedContactBytesNeverTrap() throws {
        let e = PartitionEngine(rules: Fixtures.exampleRules())
        var s = Fixtures.Stream()
        e.feed(s.identify("d", at: Fixtures.t0, [("title", .string("CEO")), ("employees", .number(500))]))
        for k in 0..<4 { e.feed(s.track("d", "Demo Requested", at: Fixtures.t0 + Int64(k) * TimeUnit.hour)) }
        let bytes = try #require(e.encodeContact("d"))
        var thrown = 0
        for n in 0..<bytes.count {
            do { try PartitionEngine(rules: Fixtures.exampleRules()).restoreContact(id: "d", bytes: Array(bytes[..<n])) } catch { thrown += 1 }
        }
        #expect(thrown == bytes.count, "every truncation is detected")
        for i in 0..<bytes.count {
            for x: UInt8 in [0x00, 0x01, 0x7F, 0x80, 0xFF] where bytes[i] != x {
                var bad = bytes
                bad[i] = x
                _ = try? PartitionEngine(rules: Fixtures.exampleRules()).restoreContact(id: "d", bytes: bad)
            }
        }
    }
}

@Test func contactFixedPartFitsOneCacheLine() {
    #expect(MemoryLayout<ContactState>.stride <= 64)
}
