import ArgumentParser
import Foundation
import LeadScoring
import LeadSim

/// `leadscored bench-engine`: the engine alone on one core, on the bench's synthetic stream held in memory —
/// decode only, score pre-decoded events, decode + score — plus the state's memory per contact. No Kafka, no
/// files: what the engine itself costs (issue 3's targets), in one run so the ratios are comparable.
///
/// Each is measured in both forms of an event: `SegmentEvent` (Strings: `replay`, tests) and the scanned form
/// the daemon uses (`SegmentDecoder.scan` + `apply(_:in:…)`: places in the message, no String per event).
struct BenchEngineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-engine",
        abstract: "Measure decoding and scoring on one core (one JSON line)."
    )

    @Option(help: "Events in the generated stream.") var events: Int = 1_000_000
    @Option(help: "Distinct contacts (Zipf-distributed).") var contacts: Int = 100_000
    @Option(help: "Seed of the generated stream.") var seed: UInt64 = 42
    @Option(help: "Repetitions of each measurement (the best is reported).") var repeats: Int = 3
    @Option(help: "Run only this measurement: decode, score, both, scan, score-scanned, scan-score or score-warm (for profiling).") var only: String?
    @Flag(help: "Decode without sharing repeated texts (StringInterner), to see what it saves.") var noIntern = false

    func run() throws {
        var g = TrafficGenerator(seed: seed, contacts: contacts)
        let corpus = (0..<events).map { _ in g.next().json }
        let decoded = corpus.compactMap { try? SegmentDecoder.decode($0) }
        let scanned: [(RawSegmentEvent, [UInt8])] = corpus.compactMap { bytes in
            bytes.withUnsafeBytes { b in (try? SegmentDecoder.scan(b)).map { ($0, bytes) } }
        }

        /// The best of `repeats` timings of `body`; `setUp` runs before each, untimed.
        func best(_ phase: String, setUp: () -> Void = {}, _ body: () -> Void) -> Double {
            if let only, only != phase { return .nan }
            var b = Double.infinity
            for _ in 0..<max(1, repeats) {
                setUp()
                let t0 = DispatchTime.now().uptimeNanoseconds
                body()
                b = min(b, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            }
            return b
        }

        var sink = 0
        let interner: StringInterner? = noIntern ? nil : StringInterner()
        let decodeSeconds = best("decode") {
            for bytes in corpus { if let e = try? SegmentDecoder.decode(bytes, interner: interner) { sink &+= e.messageId.utf8.count } }
        }
        var out: [OutputRecord] = []
        var engine = PartitionEngine(rules: Rules.example)
        // A fresh engine each time, made (and the previous one freed) outside the timing.
        let fresh = { engine = PartitionEngine(rules: Rules.example) }
        let scoreSeconds = best("score", setUp: fresh) {
            for e in decoded {
                out.removeAll(keepingCapacity: true)
                _ = engine.apply(e, trigger: Trigger(messageId: e.messageId), into: &out)
                sink &+= out.count
            }
        }
        let memory = engine.approximateMemoryBytes()
        let touched = engine.contactCount
        let bothSeconds = best("both", setUp: fresh) {
            for bytes in corpus {
                guard let e = try? SegmentDecoder.decode(bytes, interner: interner) else { continue }
                out.removeAll(keepingCapacity: true)
                _ = engine.apply(e, trigger: Trigger(messageId: e.messageId), into: &out)
                sink &+= out.count
            }
        }
        let scanSeconds = best("scan") {
            for bytes in corpus {
                bytes.withUnsafeBytes { b in if let e = try? SegmentDecoder.scan(b) { sink &+= Int(e.timestamp & 0xFF) } }
            }
        }
        let scoreScannedSeconds = best("score-scanned", setUp: fresh) {
            for (e, bytes) in scanned {
                out.removeAll(keepingCapacity: true)
                bytes.withUnsafeBytes { b in _ = engine.apply(e, in: b, trigger: Trigger(messageId: ""), into: &out) }
                sink &+= out.count
            }
        }
        let scanScoreSeconds = best("scan-score", setUp: fresh) {
            for bytes in corpus {
                bytes.withUnsafeBytes { b in
                    guard let e = try? SegmentDecoder.scan(b) else { return }
                    out.removeAll(keepingCapacity: true)
                    _ = engine.apply(e, in: b, trigger: Trigger(messageId: ""), into: &out)
                    sink &+= out.count
                }
            }
        }
        // Steady state: the engine already holds the contacts of the stream above (applied, untimed), and scores
        // the next `events` events of the same generator — later event times, mostly known contacts. The other
        // measurements start from an empty engine, so they include creating every contact the stream touches
        // (64 k of 100 k by default: one event in 15 creates one).
        let later = only == nil || only == "score-warm" ? (0..<events).compactMap { _ in try? SegmentDecoder.decode(g.next().json) } : []
        let warmSeconds = best("score-warm", setUp: {
            fresh()
            for e in decoded { out.removeAll(keepingCapacity: true); _ = engine.apply(e, trigger: Trigger(messageId: e.messageId), into: &out) }
        }) {
            for e in later {
                out.removeAll(keepingCapacity: true)
                _ = engine.apply(e, trigger: Trigger(messageId: e.messageId), into: &out)
                sink &+= out.count
            }
        }
        let n = Double(events)
        func rate(_ count: Double, _ seconds: Double) -> String { seconds.isNaN ? "null" : String(Int((count / seconds).rounded())) }
        print("{\"events\":\(events),\"contacts\":\(contacts),\"contacts_touched\":\(touched),"
            + "\"decode_per_sec\":\(rate(n, decodeSeconds)),\"score_pre_decoded_per_sec\":\(rate(Double(decoded.count), scoreSeconds)),"
            + "\"decode_and_score_per_sec\":\(rate(n, bothSeconds)),"
            + "\"scan_per_sec\":\(rate(n, scanSeconds)),\"score_scanned_per_sec\":\(rate(Double(scanned.count), scoreScannedSeconds)),"
            + "\"scan_and_score_per_sec\":\(rate(n, scanScoreSeconds)),\"score_warm_per_sec\":\(rate(Double(later.count), warmSeconds)),"
            + "\"bytes_per_contact\":\(touched == 0 ? 0 : memory / touched),\"check\":\(sink & 0xFFFF)}")
    }
}
