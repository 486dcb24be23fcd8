import Foundation
import Testing

/// Broker faults while the daemon works: a broker down for 30 s, injected Produce and Fetch errors, a
/// partition leader moved. Its own 3-broker `dev-broker`; the stream (20 000 events over 6 partitions,
/// ~1 MiB per partition) stays inside the built-in cluster's ~5 MiB per-partition retention.
@Suite(.serialized) final class BrokerFaultTests {
    let broker: DevBroker

    init() throws { broker = try DevBroker(brokers: 3) }

    @Test func outputsEqualReplayThroughBrokerOutageInjectedErrorsAndLeaderMove() async throws {
        let tag = "faults-\(UInt32.random(in: 0...UInt32.max))"
        let (input, sc, al, dlq) = ("in-\(tag)", "sc-\(tag)", "al-\(tag)", "dlq-\(tag)")
        try broker.createTopics([input, sc, al, dlq], partitions: 6)
        let dir = scratchDir("faults")
        let (keyed, jsonl) = try generatedStream(events: 20_000, contacts: 2000, seed: 77)
        let expected = try replayed(jsonl, partitions: 6, dir: dir).records
        #expect(expected.count > 500, "replay should yield plenty of stage changes and alerts")
        try writeDaemonConfig(dir + "/c.yaml", bootstrap: broker.bootstrap, group: "g-\(tag)", input: input,
                              topics: [("stage_changes", sc), ("alerts", al), ("dlq", dlq)], dataDir: dir + "/data")
        let d = try DaemonUnderTest(["--config", dir + "/c.yaml"], logPath: dir + "/daemon.log")
        #expect(eventually(30) { d.log.contains("assigned ") })

        try kcatProduce(broker.bootstrap, topic: input, lines: Array(keyed[0..<7000]))
        #expect(try broker.control("errors produce 5 6") == "ok")      // NOT_LEADER_OR_FOLLOWER on the daemon's outputs
        #expect(try broker.control("errors fetch 5 6") == "ok")
        try kcatProduce(broker.bootstrap, topic: input, lines: Array(keyed[7000..<14000]))
        // Broker 2 (group coordinator, leader of a third of the partitions) is down for 30 s — longer than the
        // session timeout, so the daemon loses its partitions and must rejoin and restore from its checkpoints.
        let broker2 = broker.bootstrap.split(separator: ",")[1]
        #expect(try broker.control("down 2") == "ok")
        try await Task.sleep(for: .seconds(30))   // the outage's length is the scenario, not a wait for a condition
        #expect(d.log.contains("\(broker2)/2: Connect to ipv4#\(broker2) failed"), "the daemon saw the outage")
        #expect(try broker.control("up 2") == "ok")
        #expect(try broker.control("leader \(input) 0 3") == "ok")
        try kcatProduce(broker.bootstrap, topic: input, lines: Array(keyed[14000...]))

        func outputs() throws -> (byId: [String: String], duplicates: Int, conflicting: Int) {
            normalizedRecords(try (kcatConsume(broker.bootstrap, topic: sc) + kcatConsume(broker.bootstrap, topic: al)).compactMap { $0["payload"] as? String })
        }
        var got = (byId: [String: String](), duplicates: 0, conflicting: 0)
        #expect(try eventually(120, every: 1) { got = try outputs(); return got.byId.count >= expected.count }, "\(got.byId.count) of \(expected.count)\n\(d.log.suffix(1500))")
        #expect(d.process.isRunning, "no crash")
        #expect(got.conflicting == 0)
        #expect(got.byId == expected, "\(recordDifference(got.byId, expected))")
        #expect(d.terminate().0 == 0)
    }

    /// A checkpoint whose producer flush outlasts the session timeout (the outputs' leader answers after 8 s)
    /// does not commit: had the process been stopped instead, the group would have moved its partitions. The
    /// commit waits for the next checkpoint, which makes it once the outputs are acknowledged again.
    @Test func aCheckpointLongerThanTheSessionDefersItsCommitToTheNext() throws {
        let tag = "slowflush-\(UInt32.random(in: 0...UInt32.max))"
        let (input, sc, al, dlq, group) = ("in-\(tag)", "sc-\(tag)", "al-\(tag)", "dlq-\(tag)", "g-\(tag)")
        try broker.createTopics([input, sc, al, dlq], partitions: 3)
        // Broker 1 coordinates the group and leads the input; broker 3 leads every output partition.
        #expect(try broker.control("coordinator \(group) 1") == "ok")
        for p in 0..<3 {
            #expect(try broker.control("leader \(input) \(p) 1") == "ok")
            for t in [sc, al, dlq] { #expect(try broker.control("leader \(t) \(p) 3") == "ok") }
        }
        let dir = scratchDir("slowflush")
        let (keyed, jsonl) = try generatedStream(events: 3000, contacts: 300, seed: 91)
        let expected = try replayed(jsonl, partitions: 3, dir: dir).records
        #expect(expected.count > 50)
        try writeDaemonConfig(dir + "/c.yaml", bootstrap: broker.bootstrap, group: group, input: input,
                              topics: [("stage_changes", sc), ("alerts", al), ("dlq", dlq)], dataDir: dir + "/data")
        let d = try DaemonUnderTest(["--config", dir + "/c.yaml"], logPath: dir + "/daemon.log")
        defer { if d.process.isRunning { d.kill9() } }
        #expect(eventually(30) { d.log.contains("assigned ") })
        let port = try #require(d.httpPort)
        let deferred = "leadscore_offset_commits_total{result=\"deferred\"}"
        let committed = "leadscore_offset_commits_total{result=\"committed\"}"

        #expect(try broker.control("rtt 3 8000") == "ok")
        try kcatProduce(broker.bootstrap, topic: input, lines: keyed)
        #expect(eventually(60) { (samples(port, deferred).first ?? 0) >= 1 }, "\(d.log.suffix(1500))")
        #expect(d.log.contains("not committing after the checkpoint (interval)"))
        let before = samples(port, committed).first ?? 0
        #expect(try broker.control("rtt 3 0") == "ok")
        #expect(eventually(60) { (samples(port, committed).first ?? 0) > before }, "\(d.log.suffix(1500))")
        #expect(samples(port, "leadscore_offset_commits_total{result=\"failed\"}") == [0], "the member kept its session: no commit was refused")

        func outputs() throws -> [String: String] {
            normalizedRecords(try (kcatConsume(broker.bootstrap, topic: sc) + kcatConsume(broker.bootstrap, topic: al)).compactMap { $0["payload"] as? String }).byId
        }
        var got: [String: String] = [:]
        #expect(try eventually(60, every: 1) { got = try outputs(); return got.count >= expected.count })
        #expect(got == expected, "\(recordDifference(got, expected))")
        #expect(d.terminate().0 == 0)
    }
}
