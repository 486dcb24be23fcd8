import Foundation
import LeadKafka
import LeadScoring

/// A lane's part of one batch: the batch stays alive (its librdkafka messages with it) until every lane
/// holding it is done.
struct LaneJob {
    let batch: MessageBatch
    /// Indices into the batch, in batch order.
    let indices: [Int]
}

/// What one of the daemon's processing lanes needs while scoring (only that lane's thread touches it, so its
/// properties skip the dynamic exclusivity check, a thread-local lookup on every message).
final class LaneWork {
    @exclusivity(unchecked) var outputs: [OutputRecord] = []
    /// The input topic of the last message (batches rarely mix topics): its librdkafka handle, name and
    /// position in the daemon's input topics.
    @exclusivity(unchecked) var topicHandle: OpaquePointer?
    @exclusivity(unchecked) var topic = ""
    @exclusivity(unchecked) var topicIndex = 0
    @exclusivity(unchecked) var lastMisrouteLog = Date.distantPast
    // Counted here and added to the metrics once per batch: lanes never contend on a shared counter,
    // and no labelled counter is looked up per record.
    @exclusivity(unchecked) var scored = 0
    @exclusivity(unchecked) var duplicates = 0
    @exclusivity(unchecked) var ignored = 0
    /// Stage changes by (from, to), positions in `Stage.allCases`.
    @exclusivity(unchecked) private var transitions = [Int](repeating: 0, count: Stage.allCases.count * Stage.allCases.count)
    /// Alerts by (reason, priority 1–3).
    @exclusivity(unchecked) private var alerts = [Int](repeating: 0, count: 6)

    func countTransition(from: Stage, to: Stage) {
        transitions[Self.position(from) * Stage.allCases.count + Self.position(to)] += 1
    }

    func countAlert(intent: Bool, priority: UInt8) {
        alerts[(intent ? 3 : 0) + Int(min(max(priority, 1), 3)) - 1] += 1
    }

    private static func position(_ s: Stage) -> Int { Stage.allCases.firstIndex(of: s)! }

    /// Adds the counts to the metrics and starts again from zero.
    func addCounts(to m: RuntimeMetrics) {
        // Before the counters: whoever sees the final count also sees the time its events were done.
        if scored + duplicates + ignored > 0 { m.lastEventProcessed.record(Date().timeIntervalSince1970) }
        if scored > 0 { m.scored.increment(by: scored); scored = 0 }
        if duplicates > 0 { m.duplicates.increment(by: duplicates); duplicates = 0 }
        if ignored > 0 { m.ignored.increment(by: ignored); ignored = 0 }
        let n = Stage.allCases.count
        for k in transitions.indices where transitions[k] > 0 {
            m.stageChange(from: Stage.allCases[k / n], to: Stage.allCases[k % n]).increment(by: transitions[k])
            transitions[k] = 0
        }
        for k in alerts.indices where alerts[k] > 0 {
            m.alert(intent: k >= 3, priority: UInt8(k % 3 + 1)).increment(by: alerts[k])
            alerts[k] = 0
        }
    }
}
