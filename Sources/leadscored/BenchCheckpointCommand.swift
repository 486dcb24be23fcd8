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

    /// Resident set size of this process (Linux `/proc/self/statm`), 0 where unavailable.
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
              let pages = text.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    func run() throws {
        let residentBefore = Self.residentBytes()
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
        // The state's memory: what the engine accounts for, and what the process gained (generator included).
        let resident = Self.residentBytes()
        let stateBytes = engine.approximateMemoryBytes()
        let dir = dataDir ?? NSTemporaryDirectory() + "leadscore-bench-checkpoint-\(getpid())"
        defer { if dataDir == nil { try? FileManager.default.removeItem(atPath: dir) } }
        let r = try CheckpointBenchmark.run(engine: engine, makeEngine: { PartitionEngine(rules: Rules.example) }, directory: dir)
        guard r.restoredContacts == r.contacts else {
            stderr("error: restore found \(r.restoredContacts) contacts, \(r.contacts) were written")
            throw ExitCode(2)
        }
        print("{\"contacts\":\(r.contacts),\"events_scored\":\(events),\"checkpoint_bytes\":\(r.bytes),"
            + "\"write_seconds\":\(String(format: "%.3f", r.writeSeconds)),\"restore_seconds\":\(String(format: "%.3f", r.restoreSeconds)),"
            + "\"write_contacts_per_sec\":\(Int(Double(r.contacts) / r.writeSeconds)),"
            + "\"restore_contacts_per_sec\":\(Int(Double(r.contacts) / r.restoreSeconds)),"
            + "\"state_bytes_per_contact\":\(stateBytes / max(1, r.contacts)),"
            + "\"resident_bytes\":\(resident),\"resident_bytes_before_scoring\":\(residentBefore)}")
    }
}
