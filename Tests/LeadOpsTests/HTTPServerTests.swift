import Foundation
import Logging
import Metrics
import Prometheus
import Testing
@testable import LeadOps
import LeadRuntime

/// A stand-in for the daemon: readiness can be flipped, and three contacts cover found / unknown / elsewhere.
private final class FakeDaemon: DaemonStatusProvider, @unchecked Sendable {
    private let lock = NSLock()
    private var isReady = false

    func setReady(_ r: Bool) { lock.lock(); isReady = r; lock.unlock() }

    func readiness() -> Readiness {
        lock.lock(); defer { lock.unlock() }
        return isReady ? Readiness(ready: true, reason: "1 partition(s) assigned and consuming")
                       : Readiness(ready: false, reason: "partition 0 restoring")
    }

    func lookupContact(_ id: String) -> ContactLookup {
        switch id {
        case "c1":
            return .found(Array(#"{"contact_id":"c1","stage":"mql","score":{"total":57.5,"fit":10,"engagement":47.5},"grade":"C2","top_rules":[],"as_of":"2026-01-02T00:50:00.000Z","last_event_at":"2026-01-02T00:50:00.000Z","partition":0}"#.utf8))
        case "a b/ü+c": return .found(Array(#"{"contact_id":"a b/ü+c"}"#.utf8))
        case "elsewhere": return .ownedElsewhere(partition: 3, owner: "leadscored-1:9464")
        case "restoring": return .notReady("partition 2 restoring")
        default: return .unknown
        }
    }
}

private let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

private struct HTTPReply { var status: Int; var body: String }

/// GET with curl (a real HTTP client, separate process); blocks the calling (non-cooperative) thread.
private func blockingGet(_ url: String) -> Result<HTTPReply, any Error> {
    Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["curl", "-sS", "--max-time", "10", "-o", "-", "-w", "\n%{http_code}", url]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard p.terminationStatus == 0, let nl = text.lastIndex(of: "\n"), let code = Int(text[text.index(after: nl)...]) else {
            throw ConfigError("curl \(url) failed (exit \(p.terminationStatus)): \(text)")
        }
        return HTTPReply(status: code, body: String(text[..<nl]))
    }
}

/// The same GET from async code, run on a dispatch thread so it never holds a cooperative one.
private func get(_ url: String) async throws -> HTTPReply {
    try await withCheckedContinuation { k in DispatchQueue.global().async { k.resume(returning: blockingGet(url)) } }.get()
}

/// Parses Prometheus text: every non-comment line is `name{labels} value`; returns "name{labels}" → value.
func parsePrometheus(_ text: String) throws -> [String: Double] {
    var samples: [String: Double] = [:]
    let line = #/^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})?) (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$/#
    for l in text.split(separator: "\n", omittingEmptySubsequences: true) where !l.hasPrefix("#") {
        guard let m = try line.wholeMatch(in: String(l)) else { throw ConfigError("not a Prometheus sample line: \(l)") }
        samples[String(m.1)] = Double(m.2)
    }
    return samples
}

@Suite(.serialized) struct HTTPServerTests {
    @Test func endpointsAnswerLikeTheContractSays() async throws {
        let fake = FakeDaemon()
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetricsFactory(registry: registry)
        // Metrics made like RuntimeMetrics makes them (swift-metrics → swift-prometheus).
        let events = Counter(label: "leadscore_events_total", dimensions: [("result", "scored")], factory: factory)
        let batch = Recorder(label: "leadscore_batch_size", dimensions: [], aggregate: true, factory: factory)
        let stage = Gauge(label: "leadscore_contacts_per_stage", dimensions: [("stage", "mql")], factory: factory)
        events.increment(by: 3)
        batch.record(120)
        stage.record(7)

        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let server = Task {
            try await HTTPServer.run(host: "127.0.0.1", port: 0, status: fake, registry: registry,
                                     logger: Logger(label: "test.http")) { port in portSink.yield(port) }
        }
        defer { server.cancel() }
        var it = ports.makeAsyncIterator()
        let port = try #require(await it.next())
        #expect(port > 0)
        let base = "http://127.0.0.1:\(port)"

        let health = try await get(base + "/healthz")
        #expect(health.status == 200)
        #expect(health.body == "ok\n")

        let notReady = try await get(base + "/readyz")
        #expect(notReady.status == 503)
        #expect(notReady.body.contains("not ready: partition 0 restoring"))
        fake.setReady(true)
        let ready = try await get(base + "/readyz")
        #expect(ready.status == 200)
        #expect(ready.body.hasPrefix("ready: "))

        let found = try await get(base + "/contacts/c1")
        #expect(found.status == 200)
        let view = try #require(try JSONSerialization.jsonObject(with: Data(found.body.utf8)) as? [String: Any])
        #expect(view["contact_id"] as? String == "c1")
        #expect(view["stage"] as? String == "mql")
        #expect((view["score"] as? [String: Any])?["total"] as? Double == 57.5)

        let unknown = try await get(base + "/contacts/nobody")
        #expect(unknown.status == 404)
        #expect(unknown.body == #"{"error":"unknown contact"}"#)
        #expect(found.body.hasPrefix(#"{"contact_id":"c1""#))

        // The id is percent-decoded: a space, a slash, non-ASCII; `+` stays a plus.
        let escaped = try await get(base + "/contacts/a%20b%2F%C3%BC+c")
        #expect(escaped.status == 200)
        #expect(escaped.body == #"{"contact_id":"a b/ü+c"}"#)
        #expect(try await get(base + "/contacts/a%20b%2F%C3%BC%2Bc").status == 200)

        let elsewhere = try await get(base + "/contacts/elsewhere")
        #expect(elsewhere.status == 409)
        let owner = try #require(try JSONSerialization.jsonObject(with: Data(elsewhere.body.utf8)) as? [String: Any])
        #expect(owner["partition"] as? Int == 3)
        #expect(owner["owner"] as? String == "leadscored-1:9464")

        let restoring = try await get(base + "/contacts/restoring")
        #expect(restoring.status == 503)
        #expect(restoring.body.contains("partition 2 restoring"))

        let metrics1 = try await get(base + "/metrics")
        #expect(metrics1.status == 200)
        let s1 = try parsePrometheus(metrics1.body)
        #expect(s1[#"leadscore_events_total{result="scored"}"#] == 3)
        #expect(s1[#"leadscore_contacts_per_stage{stage="mql"}"#] == 7)
        #expect(s1["leadscore_batch_size_count"] == 1)
        #expect(s1["leadscore_batch_size_sum"] == 120)
        #expect(metrics1.body.contains("# TYPE leadscore_events_total counter"))
        #expect(metrics1.body.contains("# TYPE leadscore_batch_size histogram"))

        events.increment(by: 2)
        batch.record(30)
        let s2 = try parsePrometheus(try await get(base + "/metrics").body)
        #expect(s2[#"leadscore_events_total{result="scored"}"#] == 5)
        #expect(s2["leadscore_batch_size_count"] == 2)

        server.cancel()
        _ = await server.result
    }

    @Test func contactIdsArePercentDecoded() {
        #expect(HTTPServer.percentDecoded("c1") == "c1")
        #expect(HTTPServer.percentDecoded("a%20b") == "a b")
        #expect(HTTPServer.percentDecoded("%C3%bc") == "ü")
        #expect(HTTPServer.percentDecoded("c+d") == "c+d")
        #expect(HTTPServer.percentDecoded("c%2Bd%2f") == "c+d/")
        #expect(HTTPServer.percentDecoded("100%") == "100%")          // not an escape: kept
        #expect(HTTPServer.percentDecoded("%4") == "%4")
        #expect(HTTPServer.percentDecoded("%zz%41") == "%zzA")
    }

    @Test func everyRuntimeMetricRendersAsValidPrometheusText() async throws {
        // The metrics RuntimeMetrics declares (read from its source), made through the factory the daemon
        // bootstraps, render as parseable text under their own names.
        let source = try String(contentsOfFile: repoRoot + "/Sources/LeadRuntime/RuntimeMetrics.swift", encoding: .utf8)
        let decl = #/(Counter|Gauge|Recorder)\(label: "([a-z_]+)"/#
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetricsFactory(registry: registry)
        var expected: [String] = []
        for m in source.matches(of: decl) {
            let name = String(m.2)
            guard !expected.contains(name) else { continue }
            switch m.1 {
            case "Counter": Counter(label: name, factory: factory).increment(); expected.append(name)
            case "Gauge": Gauge(label: name, factory: factory).record(2); expected.append(name)
            default: Recorder(label: name, aggregate: true, factory: factory).record(1); expected.append(name + "_count")
            }
        }
        #expect(expected.count >= 20)
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        let samples = try parsePrometheus(String(decoding: buffer, as: UTF8.self))
        for n in expected { #expect(samples[n] != nil, "\(n) missing from the /metrics text") }
    }
}
