import ArgumentParser
import Foundation
import Histogram
import LeadKafka
import LeadScoring
import LeadSim

/// `leadscored bench`: the load harness of CONTRACTS §6.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Produce a realistic event stream and measure the daemon end to end.",
        discussion: "Ends with one JSON line: events, seconds, events_per_sec, latency_ms, stage_changes, alerts, duplicates, mismatched_contacts, raw_consume_events_per_sec."
    )

    @Option(help: "Number of events to produce.") var events: Int = 100_000
    @Option(help: "Stop producing after this many seconds (with --events as an upper bound).") var duration: Double?
    @Option(help: "Number of distinct contacts (Zipf-distributed).") var contacts: Int = 20_000
    @Option(help: "Target events per second (0: as fast as possible).") var rate: Double = 0
    @Option(help: "Input partitions (default: enough for the built-in cluster's retention, at least 8).") var partitions: Int?
    @Option(help: "spawn: start `leadscored run` here; external: a daemon already consumes the topic.") var daemon: DaemonMode = .spawn
    @Option(help: "Seed of the generated stream.") var seed: UInt64 = 42
    @Option(help: "Use this Kafka instead of starting the built-in cluster.") var bootstrapServers: String?
    @Option(help: "Input topic.") var topic: String = "leadscore.events"
    @Option(help: "Rules file (default: the CONTRACTS example).") var rules: String?
    @Option(help: "Give up waiting for outputs after this many idle seconds.") var idleTimeout: Double = 60

    enum DaemonMode: String, ExpressibleByArgument { case spawn, external }

    func run() async throws {
        let report = try await Task.detached { try runBlocking() }.value
        print(report)
    }

    /// Everything runs on plain threads: producing and waiting block.
    private func runBlocking() throws -> String {
        let progress = ProgressLine()
        let tmp = try TempDir(prefix: "leadscore-bench")
        defer { tmp.remove() }
        let rulesPath = try rules ?? writeExampleRules(to: tmp.file("rules.yaml"))
        let ruleSet = try RulesLoader.load(path: rulesPath)

        // Size the input so that the built-in cluster's ~5 MiB per partition keeps everything until it is read.
        var sampler = TrafficGenerator(seed: seed, contacts: contacts)
        var sampleBytes = 0
        for _ in 0..<1000 { sampleBytes += sampler.next().json.count }
        let avgBytes = max(1, sampleBytes / 1000)
        let neededPartitions = Int((Double(events * (avgBytes + 80)) / Double(3 << 20)).rounded(.up))
        let p = partitions ?? max(8, neededPartitions)

        var cluster: MockCluster?
        let bootstrap: String
        if let bootstrapServers {
            bootstrap = bootstrapServers
        } else {
            let c = try MockCluster(brokers: 1)
            for t in [topic, "leadscore.stage-changes", "leadscore.alerts", "leadscore.dlq", "leadscore.scores", "leadscore.state", "leadscore.bench-raw"] {
                try c.createTopic(t, partitions: p)
            }
            cluster = c
            bootstrap = c.bootstrapServers
        }
        progress.show("bench: \(events) events, \(contacts) contacts, \(p) partitions, broker \(bootstrap)")
        progress.finish()

        // librdkafka alone draining the same events, preloaded with the same partitioning (within retention).
        let rawCount = min(events, p * (3 << 20) / (avgBytes + 80))
        let rawRate = try measureRawDrain(bootstrap: bootstrap, partitions: p, count: rawCount)

        let clock = ProduceClock()
        let watcher = OutputWatcher(produceTimes: clock)
        try watcher.start(bootstrap: bootstrap, topics: ["leadscore.stage-changes", "leadscore.alerts"])
        defer { watcher.stop() }

        var daemonProcess: DaemonProcess?
        if daemon == .spawn {
            daemonProcess = try DaemonProcess(arguments: [
                "--bootstrap-servers", bootstrap, "--group-id", "leadscore-bench-\(getpid())", "--input-topic", topic,
                "--rules", rulesPath, "--data-dir", tmp.file("data"), "--http-port", "0",
                "--kafka-property", "session.timeout.ms=6000", "--kafka-property", "heartbeat.interval.ms=500",
            ], logPath: tmp.file("daemon.log"))
        }
        defer { daemonProcess?.stop() }
        // Measure the pipeline, not the group join: produce once the daemon owns its partitions.
        if let d = daemonProcess, !d.waitForLog("assigned ", timeoutSeconds: 60) { throw daemonDied(d) }

        // Produce, keeping the not-yet-scored backlog within retention, and replay the same stream alongside.
        var reference = ReferenceReplay(rules: ruleSet, partitions: p)
        var cumulative: [Int] = []          // expected outputs after event i
        cumulative.reserveCapacity(events)
        let producer = try KafkaProducer(config: KafkaConfig(bootstrapServers: bootstrap, clientId: "leadscore-bench")) { _ in }
        var generator = TrafficGenerator(seed: seed, contacts: contacts)
        // Hot partitions (Zipf contacts) fill faster than the average: keep the backlog well inside retention.
        let backlogLimit = p * (1 << 20) / (avgBytes + 80)
        let start = Date()
        var produced = 0
        var lastShow = Date()
        while produced < events {
            if let duration, Date().timeIntervalSince(start) >= duration { break }
            if rate > 0 {
                let due = start.addingTimeInterval(Double(produced) / rate)
                let wait = due.timeIntervalSinceNow
                if wait > 0 { Thread.sleep(forTimeInterval: wait) }
            }
            // Backpressure against the daemon: outputs seen tell which events it has certainly scored.
            while produced - scoredEstimate(cumulative, watcher) > backlogLimit {
                if daemonProcess.map({ !$0.isRunning }) == true { throw daemonDied(daemonProcess!) }
                Thread.sleep(forTimeInterval: 0.005)
            }
            let e = generator.next()
            let part = Partitioner.partition(key: e.contactId, count: p)
            clock.mark(e.messageId, DispatchTime.now().uptimeNanoseconds)
            try producer.produce(topic: topic, partition: Int32(part), key: Array(e.contactId.utf8), value: e.json, token: UInt64(produced))
            reference.apply(json: e.json, partition: part)
            cumulative.append(reference.outputs)
            produced += 1
            if Date().timeIntervalSince(lastShow) >= 1 {
                lastShow = Date()
                progress.show(status(produced: produced, start: start, watcher: watcher, expected: reference.outputs))
            }
        }
        try producer.flush(timeoutMs: 60_000)
        producer.close()

        // Wait for the daemon to publish everything the reference published.
        let expected = reference.outputs
        var end = Date()
        while true {
            let (got, idle) = watcher.state.withLock { ($0.ids.count, Date().timeIntervalSince($0.lastArrival)) }
            if got >= expected { end = Date(); break }
            if idle > idleTimeout { end = Date(); break }
            if daemonProcess.map({ !$0.isRunning }) == true { throw daemonDied(daemonProcess!) }
            if Date().timeIntervalSince(lastShow) >= 1 {
                lastShow = Date()
                progress.show(status(produced: produced, start: start, watcher: watcher, expected: expected))
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        progress.show(status(produced: produced, start: start, watcher: watcher, expected: expected))
        progress.finish()
        // Late duplicates (if any) get a moment to show up before counting.
        Thread.sleep(forTimeInterval: 0.5)
        daemonProcess?.stop()
        watcher.stop()   // before the built-in cluster goes (its consumer would log the disconnection)

        let seconds = end.timeIntervalSince(start)
        return watcher.state.withLock { s in
            var mismatched = 0
            for c in Set(s.lastStage.keys).union(reference.lastStage.keys) where s.lastStage[c] != reference.lastStage[c] {
                mismatched += 1
            }
            let h = s.latencyMicros
            func ms(_ q: Double) -> String { String(format: "%.3f", Double(h.valueAtPercentile(q)) / 1000) }
            let maxMs = String(format: "%.3f", Double(h.max) / 1000)
            withExtendedLifetime(cluster) {}
            return "{\"events\":\(produced),\"seconds\":\(String(format: "%.3f", seconds)),"
                + "\"events_per_sec\":\(Int(Double(produced) / max(seconds, 1e-9))),"
                + "\"latency_ms\":{\"p50\":\(ms(50)),\"p99\":\(ms(99)),\"p999\":\(ms(99.9)),\"max\":\(maxMs)},"
                + "\"stage_changes\":\(s.stageChanges),\"alerts\":\(s.alerts),\"duplicates\":\(s.duplicates),"
                + "\"mismatched_contacts\":\(mismatched),\"raw_consume_events_per_sec\":\(Int(rawRate)),"
                + "\"expected_outputs\":\(expected),\"partitions\":\(p)}"
        }
    }

    private func scoredEstimate(_ cumulative: [Int], _ watcher: OutputWatcher) -> Int {
        let seen = watcher.state.withLock { $0.ids.count }
        // Index of the last event whose expected outputs have all been seen (a lower bound of what is scored).
        var lo = 0, hi = cumulative.count
        while lo < hi { let mid = (lo + hi) / 2; if cumulative[mid] <= seen { lo = mid + 1 } else { hi = mid } }
        return lo
    }

    private func status(produced: Int, start: Date, watcher: OutputWatcher, expected: Int) -> String {
        let el = max(Date().timeIntervalSince(start), 1e-9)
        return watcher.state.withLock { s in
            let p99 = Double(s.latencyMicros.valueAtPercentile(99)) / 1000
            return String(format: "produced %d (%.0f ev/s)  outputs %d/%d  p99 %.1f ms", produced, Double(produced) / el,
                          s.ids.count, expected, p99)
        }
    }

    private func measureRawDrain(bootstrap: String, partitions: Int, count: Int) throws -> Double {
        let producer = try KafkaProducer(config: KafkaConfig(bootstrapServers: bootstrap, clientId: "leadscore-bench-raw")) { _ in }
        var generator = TrafficGenerator(seed: seed, contacts: contacts)
        for i in 0..<count {
            let e = generator.next()
            try producer.produce(topic: "leadscore.bench-raw", partition: Int32(Partitioner.partition(key: e.contactId, count: partitions)),
                                 key: Array(e.contactId.utf8), value: e.json, token: UInt64(i))
        }
        try producer.flush(timeoutMs: 60_000)
        producer.close()
        let r = try RawKafkaBaseline.drain(bootstrapServers: bootstrap, topic: "leadscore.bench-raw", expected: count)
        return Double(r.messages) / max(r.seconds, 1e-9)
    }

    /// A runtime failure (exit 2), not a usage error.
    private func daemonDied(_ d: DaemonProcess) -> any Error {
        stderr("error: the daemon exited (status \(d.process.terminationStatus)):\n\(d.logTail())")
        return ExitCode(2)
    }
}

/// Writes the CONTRACTS example rules (bench and demo run without a rules file).
func writeExampleRules(to path: String) throws -> String {
    try Rules.exampleYAML.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}
