import Benchmark
import LeadScoring
import LeadSim

/// The engine's hot paths on the bench's synthetic stream (Zipf contacts, CONTRACTS example rules).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .throughput, .mallocCountTotal], maxDuration: .seconds(5), maxIterations: 20)

    func stream(_ n: Int, contacts: Int) -> [[UInt8]] {
        var g = TrafficGenerator(seed: 42, contacts: contacts)
        return (0..<n).map { _ in g.next().json }
    }

    Benchmark("decode 100k events", configuration: .init(scalingFactor: .kilo)) { benchmark in
        let events = stream(100_000, contacts: 100_000)
        benchmark.startMeasurement()
        for e in events { blackHole(try? SegmentDecoder.decode(e)) }
    }

    Benchmark("score 100k pre-decoded events, 100k contacts", configuration: .init(scalingFactor: .kilo)) { benchmark in
        let events = stream(100_000, contacts: 100_000).compactMap { try? SegmentDecoder.decode($0) }
        let engine = PartitionEngine(rules: Rules.example)
        var out: [OutputRecord] = []
        benchmark.startMeasurement()
        for e in events {
            out.removeAll(keepingCapacity: true)
            _ = engine.apply(e, trigger: Trigger(messageId: e.messageId), into: &out)
        }
        blackHole(out)
    }

    Benchmark("decode + score 100k events from JSON bytes", configuration: .init(scalingFactor: .kilo)) { benchmark in
        let events = stream(100_000, contacts: 100_000)
        let engine = PartitionEngine(rules: Rules.example)
        var out: [OutputRecord] = []
        benchmark.startMeasurement()
        for bytes in events {
            guard let e = try? SegmentDecoder.decode(bytes) else { continue }
            out.removeAll(keepingCapacity: true)
            _ = engine.apply(e, trigger: Trigger(messageId: e.messageId), into: &out)
        }
        blackHole(out)
    }
}
