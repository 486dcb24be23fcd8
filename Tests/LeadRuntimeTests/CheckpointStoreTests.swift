import Foundation
import Logging
import Testing
import LeadScoring
import LeadSim
@testable import LeadRuntime

/// Background compaction: whatever moment the files are caught in, a restore gives the live engine's state.
@Suite struct CheckpointStoreTests {
    /// An engine fed `checkpoints` chunks of a generated stream, checkpointed after each chunk like the daemon.
    private func run(_ dir: String, checkpoints: Int, eventsPerCheckpoint: Int = 50, beforeWrite: (CheckpointStore) -> Void = { _ in })
        -> (engine: PartitionEngine, store: CheckpointStore, offsets: [String: Int64]) {
        let engine = PartitionEngine(rules: Rules.example)
        let store = CheckpointStore(directory: dir, logger: Logger(label: "test"))
        var g = TrafficGenerator(seed: 3, contacts: 400)
        var out: [OutputRecord] = []
        var offsets: [String: Int64] = [:]
        for k in 0..<checkpoints {
            for _ in 0..<eventsPerCheckpoint {
                guard let e = try? SegmentDecoder.decode(g.next().json) else { continue }
                out.removeAll()
                _ = engine.apply(e, trigger: Trigger(messageId: e.messageId), into: &out)
            }
            offsets = ["in": Int64((k + 1) * eventsPerCheckpoint)]
            let changes = engine.takeDirtyContactIDs().map { ($0, engine.encodeContact($0) ?? []) }
            beforeWrite(store)
            _ = try? store.write(engine: engine, changes: changes, offsets: offsets)
        }
        return (engine, store, offsets)
    }

    private func views(_ e: PartitionEngine) -> [String: String] {
        Dictionary(uniqueKeysWithValues: e.contactIDs.map { ($0, e.contact($0).map { String(decoding: $0.json, as: UTF8.self) } ?? "") })
    }

    private func restored(_ dir: String) throws -> (PartitionEngine, CheckpointStore.Restored) {
        let store = CheckpointStore(directory: dir, logger: Logger(label: "test"))
        return try #require(try store.restore(into: { PartitionEngine(rules: Rules.example) }))
    }

    private func files(_ dir: String, _ prefix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix(prefix) && $0.hasSuffix(".ck") }.sorted()
    }

    private func tempDir() -> String {
        let d = NSTemporaryDirectory() + "ckstore-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    @Test func compactionRunsInTheBackgroundAndRestoreEqualsTheLiveState() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (engine, store, offsets) = run(dir, checkpoints: 200)
        CheckpointStore.waitForCompactions()
        // 64 deltas per generation: the first base from the engine, later ones compacted from the files.
        #expect(store.generation >= 3)
        let bases = files(dir, "base-")
        #expect(bases.count == 2, "\(bases)")   // the newest compacted base and its fallback
        let (r, info) = try restored(dir)
        #expect(info.offsets == offsets)
        #expect(views(r) == views(engine))
        #expect(r.encodePartitionState() == engine.encodePartitionState())
    }

    @Test func aCompactionThatDidNotFinishIsRedoneFromTheFrozenChain() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (engine, store, offsets) = run(dir, checkpoints: 100)
        CheckpointStore.waitForCompactions()
        let g = store.generation
        #expect(g >= 2)   // deltas outgrew the base at least once
        // A crash before the background write: no base-g, only base-(g-1), its deltas and generation g's deltas.
        let newest = String(format: "base-%012llu.ck", g)
        #expect(files(dir, "base-").last == newest)
        try FileManager.default.removeItem(atPath: dir + "/" + newest)
        let (r, info) = try restored(dir)
        #expect(info.offsets == offsets)
        #expect(views(r) == views(engine))
        CheckpointStore.waitForCompactions()
        #expect(files(dir, "base-").last == newest)   // the restore queued the compaction again
        let (again, _) = try restored(dir)
        #expect(views(again) == views(engine))
    }

    @Test func aFrozenChainThatCannotBeMergedIsReplacedByABaseFromMemory() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var damaged: UInt64?
        let (engine, store, offsets) = run(dir, checkpoints: 200) { store in
            // Damage a delta of the first compacted generation while it is still being written to: its
            // compaction cannot read it later, and the store must not lose what that delta held.
            guard damaged == nil, store.generation == 2, store.sequence == 3 else { return }
            let p = dir + String(format: "/delta-%012llu-%08u.ck", store.generation, 2)
            guard var bytes = FileManager.default.contents(atPath: p) else { return }
            bytes[bytes.count / 2] ^= 0xFF
            try? bytes.write(to: URL(fileURLWithPath: p))
            damaged = store.generation
        }
        CheckpointStore.waitForCompactions()
        #expect(damaged == 2)
        #expect(store.generation > 3)   // frozen again later; the failed merge was replaced by a base from memory
        let (r, info) = try restored(dir)
        #expect(info.offsets == offsets)
        #expect(views(r) == views(engine))
    }

    @Test func aDamagedCompactedBaseFallsBackToTheChainItWasMadeOf() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (engine, store, offsets) = run(dir, checkpoints: 100)
        CheckpointStore.waitForCompactions()
        #expect(store.generation >= 2)
        let newest = dir + "/" + String(format: "base-%012llu.ck", store.generation)
        var bytes = try #require(FileManager.default.contents(atPath: newest))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: newest))
        let (r, info) = try restored(dir)
        #expect(info.offsets == offsets)
        #expect(views(r) == views(engine))
    }

    /// A contact a delta removes and a later one adds back is in the compacted base once, with its latest
    /// state; restoring that base gives every contact of the live engine.
    @Test func aContactRemovedAndAddedAgainIsCompactedOnce() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (engine, store, _) = run(dir, checkpoints: 1)   // the first base, from the engine
        let ids = engine.contactIDs
        let a = try #require(ids.first)
        let state = try #require(engine.encodeContact(a))
        try store.write(engine: engine, changes: [(a, [])], offsets: ["in": 60])
        try store.write(engine: engine, changes: [(a, state)], offsets: ["in": 61])
        let frozen = store.generation
        // Enough empty deltas to freeze the generation; the next write queues its compaction.
        for k in 0..<64 { try store.write(engine: engine, changes: [], offsets: ["in": Int64(62 + k)]) }
        CheckpointStore.waitForCompactions()
        let compacted = dir + "/" + String(format: "base-%012llu.ck", frozen + 1)
        let file = try CheckpointFile.decode([UInt8](try #require(FileManager.default.contents(atPath: compacted))))
        #expect(file.contacts.filter { $0.id == a }.count == 1)
        #expect(file.contacts.count == ids.count)
        #expect(file.contacts.first { $0.id == a }?.state == state)
        let (r, info) = try restored(dir)
        #expect(info.offsets == ["in": 125])
        #expect(views(r) == views(engine))
    }
}
