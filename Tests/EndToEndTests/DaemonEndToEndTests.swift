import Foundation
import Testing

/// The daemon as separate processes against one `leadscored dev-broker` (kcat is the independent client).
///
/// Retention: the built-in cluster keeps ~5 MiB per partition. The largest stream here is 50 000 events of
/// ~330 bytes over 8 partitions (~2 MiB per partition), so nothing is evicted before it is read.
@Suite(.serialized) final class DaemonEndToEndTests {
    let broker: DevBroker

    init() throws { broker = try DevBroker(brokers: 1) }

    struct Setup {
        var input: String, stageChanges: String, alerts: String, dlq: String, group: String, dir: String, config: String
    }

    /// Topics, data dir and a config file of one test.
    func setUp(_ name: String, partitions: Int, extraConfig: String = "") throws -> Setup {
        let tag = "\(name)-\(UInt32.random(in: 0...UInt32.max))"
        let s = Setup(input: "in-\(tag)", stageChanges: "sc-\(tag)", alerts: "al-\(tag)", dlq: "dlq-\(tag)", group: "g-\(tag)",
                      dir: scratchDir(name), config: "")
        try broker.createTopics([s.input, s.stageChanges, s.alerts, s.dlq], partitions: partitions)
        var withConfig = s
        withConfig.config = s.dir + "/leadscore.yaml"
        try writeDaemonConfig(withConfig.config, bootstrap: broker.bootstrap, group: s.group, input: s.input,
                              topics: [("stage_changes", s.stageChanges), ("alerts", s.alerts), ("dlq", s.dlq)],
                              dataDir: s.dir + "/data", extra: extraConfig)
        return withConfig
    }

    func stream(events: Int, contacts: Int, seed: Int) throws -> (keyed: [String], jsonl: String) {
        try generatedStream(events: events, contacts: contacts, seed: seed)
    }

    /// What `replay --partitions N` publishes for the stream, by id.
    func replay(_ jsonl: String, partitions: Int, dir: String) throws -> [String: String] {
        try replayed(jsonl, partitions: partitions, dir: dir).records
    }

    func outputs(_ s: Setup) throws -> (byId: [String: String], duplicates: Int, conflicting: Int) {
        let payloads = try (kcatConsume(broker.bootstrap, topic: s.stageChanges) + kcatConsume(broker.bootstrap, topic: s.alerts)).compactMap { $0["payload"] as? String }
        return normalizedRecords(payloads)
    }

    func startDaemon(_ s: Setup, _ extra: [String] = []) throws -> DaemonUnderTest {
        try DaemonUnderTest(["--config", s.config] + extra, logPath: s.dir + "/daemon.log")
    }

    @Test func crashLoopWithKillNineStillPublishesExactlyWhatReplayDoes() throws {
        let s = try setUp("crash", partitions: 8)
        let (keyed, jsonl) = try stream(events: 50_000, contacts: 5000, seed: 21)
        let expected = try replay(jsonl, partitions: 8, dir: s.dir)
        #expect(expected.count > 1000)
        try kcatProduce(broker.bootstrap, topic: s.input, lines: keyed)
        var rng = SystemRandomNumberGenerator()
        for round in 0..<5 {
            let d = try startDaemon(s)
            #expect(eventually(30) { d.log.contains("assigned ") }, "round \(round): \(d.log.suffix(1500))")
            Thread.sleep(forTimeInterval: Double.random(in: 0.2...2.0, using: &rng))   // a random moment to crash at
            d.kill9()
        }
        let d = try startDaemon(s)
        var last = (byId: [String: String](), duplicates: 0, conflicting: 0)
        #expect(try eventually(180, every: 1) { last = try outputs(s); return last.byId.count >= expected.count }, "got \(last.byId.count) of \(expected.count)")
        let (status, _) = d.terminate()
        #expect(status == 0)
        last = try outputs(s)
        #expect(last.conflicting == 0, "a re-delivered record differs from its first delivery")
        #expect(last.byId.count == expected.count)
        let missing = expected.keys.filter { last.byId[$0] != expected[$0] }
        #expect(missing.isEmpty, "first differences: \(missing.prefix(3).map { "\nreplay: \(expected[$0]!)\ndaemon: \(last.byId[$0] ?? "-")" })")
        #expect(last.byId.keys.allSatisfy { expected[$0] != nil }, "the daemon published records replay does not")
    }

    @Test func poisonMessagesGoToTheDeadLetterTopicAndProcessingContinues() throws {
        let s = try setUp("poison", partitions: 2, extraConfig: "dead_letter:\n  max_bytes: 4096")
        let good = try stream(events: 300, contacts: 30, seed: 5)
        let future = #"{"type":"track","event":"Demo Requested","messageId":"future-1","userId":"u9","timestamp":"2099-01-01T00:00:00Z"}"#
        let garbage = String((0..<100_000).map { _ in Character(UnicodeScalar(UInt8.random(in: 33...126))) })
        let poison = [
            "p1\tnot json at all",
            "p2\t{\"type\":\"track\",\"event\":\"x\",\"messageId\":\"m-nocontact\",\"timestamp\":\"2026-01-01T00:00:00Z\"}",
            "p3\t{\"type\":\"track\",\"event\":\"x\",\"userId\":\"p3\",\"timestamp\":\"2026-01-01T00:00:00Z\"}",
            "p4\t{\"type\":\"track\",\"event\":\"x\",\"messageId\":\"m-badts\",\"userId\":\"p4\",\"timestamp\":\"2026-01-01 00:00\"}",
            "p5\t" + garbage,
            "u9\t" + future,
        ]
        try kcatProduce(broker.bootstrap, topic: s.input, lines: poison + good.keyed)
        let expected = try replay(good.jsonl, partitions: 2, dir: s.dir)
        let d = try startDaemon(s)
        var dlq: [[String: Any]] = []
        #expect(try eventually(60) { dlq = try kcatConsume(broker.bootstrap, topic: s.dlq); return dlq.count >= poison.count }, "\(d.log.suffix(2000))")
        #expect(dlq.count == poison.count)
        for m in dlq {
            let headers = m["headers"] as? [String] ?? []
            // kcat -J renders headers as a flat [name, value, …] list.
            var h: [String: String] = [:]
            stride(from: 0, to: headers.count - 1, by: 2).forEach { h[headers[$0]] = headers[$0 + 1] }
            #expect(h["error"] != nil && h["source.topic"] == s.input && h["source.partition"] != nil && h["source.offset"] != nil, "\(m)")
            let key = m["key"] as? String ?? ""
            let payload = m["payload"] as? String ?? ""
            if key == "p5" {
                #expect(h["truncated"] != nil && payload.utf8.count == 4096)
            } else {
                #expect(poison.contains(key + "\t" + payload), "DLQ value must be the original bytes: \(payload.prefix(80))")
            }
            if key == "u9" { #expect(h["error"]?.contains("future") == true) }
        }
        var got = (byId: [String: String](), duplicates: 0, conflicting: 0)
        #expect(try eventually(60) { got = try outputs(s); return got.byId.count >= expected.count })
        #expect(got.byId == expected, "\(recordDifference(got.byId, expected))")
        let port = try #require(d.httpPort)
        var metrics = ""
        // Lag gauges are refreshed at the checkpoint interval (1 s here): wait until both partitions report 0.
        func sample(_ prefix: String) -> [Double] {
            metrics.split(separator: "\n").filter { $0.hasPrefix(prefix) }.compactMap { Double($0.split(separator: " ").last!) }
        }
        #expect(eventually(30) {
            metrics = httpGet(port: port, path: "/metrics")?.1 ?? ""
            return sample("leadscore_consumer_lag_messages{").count == 2 && sample("leadscore_consumer_lag_messages{").allSatisfy { $0 == 0 }
        }, "\(metrics.prefix(3000))")
        #expect(metrics.contains("leadscore_events_total{result=\"invalid\"} 6"), "\(metrics.prefix(1500))")
        // Per-transition and per-reason counters add up to the records published.
        let stageRecords = expected.values.filter { $0.contains("\"type\":\"stage_changed\"") }.count
        #expect(sample("leadscore_stage_changes_total{").reduce(0, +) == Double(stageRecords))
        #expect(sample("leadscore_alerts_total{").reduce(0, +) == Double(expected.count - stageRecords))
        #expect(metrics.contains("leadscore_stage_changes_total{from=\"lead\",to=\"mql\"}") || metrics.contains("leadscore_stage_changes_total{to=\"mql\",from=\"lead\"}"))
        // Every output was acknowledged, so every one has an event→output latency sample.
        #expect(sample("leadscore_event_to_output_latency_seconds_count").first == Double(expected.count))
        #expect(d.terminate().0 == 0)
    }

    @Test func sigtermExitsCleanlyAndARestartReprocessesNothingCommitted() throws {
        let s = try setUp("sigterm", partitions: 4)
        let first = try stream(events: 3000, contacts: 300, seed: 8)
        try kcatProduce(broker.bootstrap, topic: s.input, lines: first.keyed)
        let expected = try replay(first.jsonl, partitions: 4, dir: s.dir)
        let d1 = try startDaemon(s)
        var got = (byId: [String: String](), duplicates: 0, conflicting: 0)
        #expect(try eventually(60) { got = try outputs(s); return got.byId.count >= expected.count })
        let port1 = try #require(d1.httpPort)
        #expect(httpGet(port: port1, path: "/readyz")?.0 == 200)
        #expect(httpGet(port: port1, path: "/healthz")?.0 == 200)
        #expect(httpGet(port: port1, path: "/contacts/nobody-\(UUID())")?.0 == 404)
        // A contact's stage over HTTP is the `to` of its last stage change.
        let last = try kcatConsume(broker.bootstrap, topic: s.stageChanges).compactMap { $0["payload"] as? String }.last!
        let rec = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        let contact = rec["contact_id"] as! String
        let (code, body) = try #require(httpGet(port: port1, path: "/contacts/\(contact)"))
        #expect(code == 200)
        let view = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        #expect(view["stage"] as? String == rec["to"] as? String)
        let (status, seconds) = d1.terminate()
        #expect(status == 0)
        #expect(seconds < 5, "an idle daemon stops within 5 s")
        let before = try outputs(s)

        let d2 = try startDaemon(s)
        let port2 = try #require(try { () -> Int? in var p: Int?; _ = eventually(30) { p = d2.httpPort; return p != nil }; return p }())
        #expect(eventually(30) { httpGet(port: port2, path: "/readyz")?.0 == 200 })
        try kcatProduce(broker.bootstrap, topic: s.input, lines: ["late-1\t{\"type\":\"track\",\"event\":\"Demo Requested\",\"messageId\":\"after-restart\",\"userId\":\"late-1\",\"timestamp\":\"2026-06-01T00:00:00Z\"}"])
        func scored() -> Int? {
            guard let m = httpGet(port: port2, path: "/metrics")?.1,
                  let line = m.split(separator: "\n").first(where: { $0.hasPrefix("leadscore_events_total{result=\"scored\"}") }) else { return nil }
            return Int(line.split(separator: " ").last!)
        }
        #expect(eventually(30) { (scored() ?? 0) >= 1 })
        #expect(scored() == 1, "only the new event is processed after a restart")
        let after = try outputs(s)
        #expect(after.duplicates == before.duplicates, "a restart after SIGTERM re-published records")
        #expect(d2.terminate().0 == 0)
    }

    @Test func aCorruptedLatestCheckpointFallsBackAndOutputsStillMatchReplay() throws {
        let s = try setUp("corrupt", partitions: 2)
        let all = try stream(events: 6000, contacts: 400, seed: 13)
        let parts = [Array(all.keyed[0..<2000]), Array(all.keyed[2000..<4000]), Array(all.keyed[4000...])]
        let expected = try replay(all.jsonl, partitions: 2, dir: s.dir)
        let expectedFirst = try replay(parts[0].map { String($0.split(separator: "\t", maxSplits: 1)[1]) }.joined(separator: "\n") + "\n", partitions: 2, dir: s.dir)
        let d1 = try startDaemon(s)
        try kcatProduce(broker.bootstrap, topic: s.input, lines: parts[0])
        #expect(try eventually(60) { try outputs(s).byId.count >= expectedFirst.count })
        // Wait for a checkpoint to cover the first part, then add more so that the final checkpoint is a delta.
        let dataDir = s.dir + "/data"
        func files() -> [String] { (FileManager.default.enumerator(atPath: dataDir)?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".ck") }.sorted() }
        #expect(eventually(30) { files().contains { $0.contains("base-") } })
        try kcatProduce(broker.bootstrap, topic: s.input, lines: parts[1])
        #expect(eventually(30) { files().contains { $0.contains("delta-") } })
        #expect(d1.terminate().0 == 0)
        let newest = try #require(files().filter { $0.contains("delta-") }.last)
        let path = dataDir + "/" + newest
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: path))   // truncated

        try kcatProduce(broker.bootstrap, topic: s.input, lines: parts[2])
        let d2 = try startDaemon(s)
        var got = (byId: [String: String](), duplicates: 0, conflicting: 0)
        #expect(try eventually(90) { got = try outputs(s); return got.byId.count >= expected.count })
        #expect(d2.log.contains("unusable"), "the corrupt checkpoint is reported")
        #expect(got.conflicting == 0)
        #expect(got.byId == expected, "\(recordDifference(got.byId, expected))")
        #expect(d2.terminate().0 == 0)
    }
}
