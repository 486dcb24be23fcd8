import Foundation
import LeadScoring
import Logging

/// Times what the daemon does to a partition's state on disk — a full base checkpoint (encode every contact,
/// checksum, write, fsync, rename) and its restore into a fresh engine — with the daemon's own
/// `CheckpointStore`, for `leadscored bench-checkpoint` (issue 4: 1 M contacts written ≤ 1 s, restored ≤ 2 s).
public enum CheckpointBenchmark {
    public struct Result: Sendable {
        public var contacts: Int
        public var bytes: Int
        public var writeSeconds: Double
        public var restoreSeconds: Double
        public var restoredContacts: Int
    }

    /// Writes `engine`'s state as a base checkpoint in `directory` (which must hold no checkpoint yet), then
    /// restores it with `makeEngine`.
    public static func run(engine: PartitionEngine, makeEngine: () -> PartitionEngine, directory: String) throws -> Result {
        let logger = Logger(label: "leadscore.bench-checkpoint")
        let writer = CheckpointStore(directory: directory, logger: logger)
        let t0 = DispatchTime.now().uptimeNanoseconds
        let bytes = try writer.write(engine: engine, changes: [], offsets: ["bench": 0])
        let t1 = DispatchTime.now().uptimeNanoseconds
        let reader = CheckpointStore(directory: directory, logger: logger)
        guard let (restored, _) = try reader.restore(into: makeEngine) else {
            throw CheckpointFile.Corrupt(description: "the checkpoint just written was not found in \(directory)")
        }
        let t2 = DispatchTime.now().uptimeNanoseconds
        return Result(contacts: engine.contactCount, bytes: bytes, writeSeconds: Double(t1 - t0) / 1e9,
                      restoreSeconds: Double(t2 - t1) / 1e9, restoredContacts: restored.contactCount)
    }
}
