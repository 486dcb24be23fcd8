import Benchmark
import LeadScoring
import LeadSim

/// The engine's hot paths on the bench's synthetic stream (Zipf contacts, CONTRACTS example rules).
///
/// Every figure is per event: each iteration handles `scaledIterations` (1000) consecutive events of a 100 000-event
/// corpus built once in `setup`, and at most 100 iterations run, so no event is seen twice. Allocation counts
/// per event are checked against `Thresholds/` (`make bench`).
nonisolated(unsafe) var corpus: [[UInt8]] = []
nonisolated(unsafe) var decoded: [SegmentEvent] = []
nonisolated(unsafe) var engine = PartitionEngine(rules: Rules.example)
nonisolated(unsafe) var cursor = 0

private func makeCorpus() {
    if corpus.isEmpty {
        var g = TrafficGenerator(seed: 42, contacts: 100_000)
        corpus = (0..<100_000).map { _ in g.next().json }
        decoded = corpus.compactMap { try? SegmentDecoder.decode($0) }
    }
    engine = PartitionEngine(rules: Rules.example)
    cursor = 0
}

let benchmarks: @Sendable () -> Void = {
    let mallocLimit = BenchmarkThresholds(relative: [.p90: 10], absolute: [.p90: 1])
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        scalingFactor: .kilo,
        maxDuration: .seconds(5),
        maxIterations: 100,
        thresholds: [.mallocCountTotal: mallocLimit],
        setup: { makeCorpus() }
    )

    Benchmark("decode") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try? SegmentDecoder.decode(corpus[cursor]))
            cursor = (cursor + 1) % corpus.count
        }
    }

    Benchmark("score_pre_decoded") { benchmark in
        var out: [OutputRecord] = []
        for _ in benchmark.scaledIterations {
            let e = decoded[cursor]
            out.removeAll(keepingCapacity: true)
            _ = engine.apply(e, trigger: Trigger(messageId: e.messageId), into: &out)
            cursor = (cursor + 1) % decoded.count
        }
        blackHole(out)
    }

    // The daemon's and replay's path: scanned, not decoded (no String per event).
    Benchmark("scan") { benchmark in
        for _ in benchmark.scaledIterations {
            corpus[cursor].withUnsafeBytes { blackHole(try? SegmentDecoder.scan($0)) }
            cursor = (cursor + 1) % corpus.count
        }
    }

    Benchmark("scan_and_score") { benchmark in
        var out: [OutputRecord] = []
        for _ in benchmark.scaledIterations {
            corpus[cursor].withUnsafeBytes { b in
                guard let e = try? SegmentDecoder.scan(b) else { return }
                out.removeAll(keepingCapacity: true)
                _ = engine.apply(e, in: b, trigger: Trigger(messageId: ""), into: &out)
            }
            cursor = (cursor + 1) % corpus.count
        }
        blackHole(out)
    }

    Benchmark("decode_and_score") { benchmark in
        var out: [OutputRecord] = []
        for _ in benchmark.scaledIterations {
            if let e = try? SegmentDecoder.decode(corpus[cursor]) {
                out.removeAll(keepingCapacity: true)
                _ = engine.apply(e, trigger: Trigger(messageId: e.messageId), into: &out)
            }
            cursor = (cursor + 1) % corpus.count
        }
        blackHole(out)
    }
}
