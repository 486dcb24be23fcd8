import ArgumentParser
import Foundation
import LeadRuntime
import LeadScoring
import LeadSim

/// `leadscored bench-checkpoint`: a partition's full base checkpoint and its restore, at a given number of
/// contacts in state (issue 4's targets: 1 M contacts written in ≤ 1 s, restored in ≤ 2 s). The state comes
/// from scoring the bench's synthetic stream until that many contacts exist; only the write and the
/// restore are timed.
struct BenchCheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-checkpoint",
        abstract: "Measure a full checkpoint and its restore (one JSON line)."
    )

    @Option(help: "Contacts in state when the checkpoint is taken.") var contacts: Int = 1_000_000
    @Option(help: "Seed of the generated stream.") var seed: UInt64 = 42
    @Option(help: "Directory for the checkpoint files (a fresh temporary one by default; removed afterwards).") var dataDir: String?

    func run() throws {
        // Zipf over 3× the target reaches it in about 12 events per contact wanted.
        var g = TrafficGenerator(seed: seed, contacts: contacts * 3)
        let engine = PartitionEngine(rules: Rules.example)
        var out: [OutputRecord] = []
        var events = 0
        while engine.contactCount < contacts && events < contacts * 40 {
            let e = g.next()
            events += 1
            guard let event = try? SegmentDecoder.decode(e.json) else { continue }
            out.removeAll(keepingCapacity: true)
            _ = engine.apply(event, trigger: Trigger(messageId: event.messageId), into: &out)
        }
        _ = engine.takeDirtyContactIDs()
        let dir = dataDir ?? NSTemporaryDirectory() + "leadscore-bench-checkpoint-\(getpid())"
        defer { if dataDir == nil { try? FileManager.default.removeItem(atPath: dir) } }
        let r = try CheckpointBenchmark.run(engine: engine, makeEngine: { PartitionEngine(rules: Rules.example) }, directory: dir)
        guard r.restoredContacts == r.contacts else {
            throw ValidationError("restore found \(r.restoredContacts) contacts, \(r.contacts) were written")
        }
        print("{\"contacts\":\(r.contacts),\"events_scored\":\(events),\"checkpoint_bytes\":\(r.bytes),"
            + "\"write_seconds\":\(String(format: "%.3f", r.writeSeconds)),\"restore_seconds\":\(String(format: "%.3f", r.restoreSeconds)),"
            + "\"write_contacts_per_sec\":\(Int(Double(r.contacts) / r.writeSeconds)),"
            + "\"restore_contacts_per_sec\":\(Int(Double(r.contacts) / r.restoreSeconds))}")
    }
}
