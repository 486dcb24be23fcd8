import ArgumentParser
import Foundation
import LeadKafka
import LeadScoring
import LeadSim
import Synchronization

/// `leadscored demo`: the newcomer's first run — built-in broker, the daemon and paced synthetic traffic, with a
/// live terminal view, until Ctrl-C.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a dev broker, the daemon and synthetic traffic with a live view (Ctrl-C to stop)."
    )

    @Option(help: "Events per second of synthetic traffic.") var rate: Double = 300
    @Option(help: "Distinct contacts.") var contacts: Int = 2000
    @Option(help: "Seed of the synthetic traffic.") var seed: UInt64 = 7
    @Option(help: "Input partitions.") var partitions: Int = 4
    @Option(help: "Stop by itself after this many seconds (default: run until Ctrl-C).") var seconds: Double?

    func run() async throws {
        let demo = try DemoSession(rate: rate, contacts: contacts, seed: seed, partitions: partitions)
        let daemonExited: Int32 = -1
        let why = await FirstOf<Int32>.wait { done in
            SignalWaiter.onSignal { done($0) }
            if let seconds {
                DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { done(0) }
            }
            demo.onDaemonExit = { done(daemonExited) }   // before the view thread that calls it starts
            do { try demo.start() } catch {
                stderr("error: cannot start the demo: \(error)")
                done(daemonExited)
            }
        }
        let summary = await Task.detached { demo.stop() }.value
        print(summary)
        if why == daemonExited { throw ExitCode(2) }   // the daemon stopped by itself: a runtime failure
    }
}

/// The processes and threads of one demo run.
final class DemoSession: @unchecked Sendable {
    let rate: Double, contacts: Int, seed: UInt64, partitions: Int
    let tmp: TempDir
    let cluster: MockCluster
    let clock = ProduceClock()
    let watcher: OutputWatcher
    var daemon: DaemonProcess?
    let stopping = Atomic<Bool>(false)
    let produced = Atomic<Int>(0)
    let seenContacts = Mutex<Set<String>>([])
    let started = Date()
    let isTTY = isatty(STDOUT_FILENO) != 0
    /// Called once if the daemon exits while the demo runs (killed, crashed): the demo then stops too.
    var onDaemonExit: (@Sendable () -> Void)?
    private var threads: [Thread] = []
    private let done = DispatchGroup()

    init(rate: Double, contacts: Int, seed: UInt64, partitions: Int) throws {
        self.rate = rate; self.contacts = contacts; self.seed = seed; self.partitions = partitions
        tmp = try TempDir(prefix: "leadscore-demo")
        cluster = try MockCluster(brokers: 1)
        for t in ["leadscore.events", "leadscore.stage-changes", "leadscore.alerts", "leadscore.dlq", "leadscore.scores", "leadscore.state"] {
            try cluster.createTopic(t, partitions: partitions)
        }
        watcher = OutputWatcher(produceTimes: clock)
    }

    func start() throws {
        let rules = try writeExampleRules(to: tmp.file("rules.yaml"))
        try watcher.start(bootstrap: cluster.bootstrapServers, topics: ["leadscore.stage-changes", "leadscore.alerts"])
        daemon = try DaemonProcess(arguments: [
            "--bootstrap-servers", cluster.bootstrapServers, "--group-id", "leadscore-demo", "--input-topic", "leadscore.events",
            "--rules", rules, "--data-dir", tmp.file("data"), "--http-port", "0",
            "--kafka-property", "session.timeout.ms=6000", "--kafka-property", "heartbeat.interval.ms=500",
        ], logPath: tmp.file("daemon.log"))
        spawn("demo-traffic") { [self] in produceLoop() }
        spawn("demo-view") { [self] in viewLoop() }
    }

    private func spawn(_ name: String, _ body: @escaping @Sendable () -> Void) {
        done.enter()
        let t = Thread { [done] in body(); done.leave() }
        t.name = name
        t.start()
        threads.append(t)
    }

    private func produceLoop() {
        guard let producer = try? KafkaProducer(config: KafkaConfig(bootstrapServers: cluster.bootstrapServers, clientId: "leadscore-demo-traffic"), onDelivery: { _ in }) else { return }
        var generator = TrafficGenerator(seed: seed, contacts: contacts)
        // Traffic starts once the daemon owns its partitions, so latency shows the pipeline, not the group join.
        while !stopping.load(ordering: .relaxed), let d = daemon, d.isRunning, !d.waitForLog("assigned ", timeoutSeconds: 0.2) {}
        let t0 = Date()
        var n = 0
        while !stopping.load(ordering: .relaxed) {
            let wait = t0.addingTimeInterval(Double(n) / rate).timeIntervalSinceNow
            if wait > 0 { Thread.sleep(forTimeInterval: min(wait, 0.1)); continue }
            let e = generator.next()
            clock.mark(e.messageId, DispatchTime.now().uptimeNanoseconds)
            let p = Partitioner.partition(key: e.contactId, count: partitions)
            try? producer.produce(topic: "leadscore.events", partition: Int32(p), key: Array(e.contactId.utf8), value: e.json, token: UInt64(n))
            seenContacts.withLock { _ = $0.insert(e.contactId) }
            n += 1
            produced.store(n, ordering: .relaxed)
        }
        producer.close(timeoutMs: 2000)
    }

    private func viewLoop() {
        var lastCount = 0
        var lastTime = Date()
        var eventsPerSec = 0.0
        var shownRecords = 0
        while !stopping.load(ordering: .relaxed) {
            Thread.sleep(forTimeInterval: isTTY ? 0.5 : 2)
            if let d = daemon, !d.isRunning, !stopping.load(ordering: .relaxed) {
                stderr("\nthe daemon exited (status \(d.process.terminationStatus)); its log ends with:\n\(d.logTail(10))")
                onDaemonExit?()
                return
            }
            let now = Date()
            let n = produced.load(ordering: .relaxed)
            eventsPerSec = Double(n - lastCount) / max(now.timeIntervalSince(lastTime), 1e-3)
            lastCount = n; lastTime = now
            if isTTY {
                FileHandle.standardOutput.write(Data(("\u{1B}[H\u{1B}[2J" + render(eventsPerSec: eventsPerSec)).utf8))
            } else {
                FileHandle.standardOutput.write(Data(renderLines(eventsPerSec: eventsPerSec, shown: &shownRecords).utf8))
            }
        }
    }

    /// The view for a pipe or a log file (no cursor control): every 2 s one line of totals, latency and the funnel,
    /// then the stage changes and alerts published since the previous line (the latest 8 of them).
    func renderLines(eventsPerSec: Double, shown: inout Int) -> String {
        let counts = stageCounts().map { "\($0.0) \($0.1)" }.joined(separator: " · ")
        let (headline, stageChanges, alerts, recent) = totals(eventsPerSec: eventsPerSec)
        var out = headline + " | \(stageChanges) stage changes · \(alerts) hot-lead alerts | funnel: \(counts)\n"
        let new = stageChanges + alerts - shown
        shown = stageChanges + alerts
        let listed = recent.suffix(min(new, 8))
        for e in listed { out += "  \(e.type == "stage_changed" ? "stage" : "alert") \(e.text)\n" }
        if new > listed.count { out += "  … and \(new - listed.count) more\n" }
        return out
    }

    /// Contacts per stage: the stage of each contact's last published record; all others are leads.
    func stageCounts() -> [(String, Int)] {
        let total = seenContacts.withLock { $0.count }
        var counts: [String: Int] = [:]
        watcher.state.withLock { s in for (_, st) in s.lastStage { counts[st, default: 0] += 1 } }
        let moved = counts.filter { $0.key != "lead" }.values.reduce(0, +)
        counts["lead"] = max(0, total - moved)
        return ["lead", "mql", "sal", "sql", "opportunity", "customer", "evangelist", "disqualified"].map { ($0, counts[$0] ?? 0) }
    }

    /// The headline (rate, events, contacts, p99 latency, uptime) and the record counts, for both views.
    private func totals(eventsPerSec: Double) -> (headline: String, stageChanges: Int, alerts: Int, recent: [OutputWatcher.Entry]) {
        let (p99, stageChanges, alerts, recent) = watcher.state.withLock { s in
            (Double(s.latencyMicros.valueAtPercentile(99)) / 1000, s.stageChanges, s.alerts, s.recent)
        }
        let up = Int(Date().timeIntervalSince(started))
        let headline = String(format: "leadscore demo — %.0f events/s · %d events · %d contacts · p99 %.1f ms · %02d:%02d",
                              eventsPerSec, produced.load(ordering: .relaxed), seenContacts.withLock { $0.count }, p99, up / 60, up % 60)
        return (headline, stageChanges, alerts, recent)
    }

    func render(eventsPerSec: Double) -> String {
        let counts = stageCounts()
        let maxCount = max(1, counts.map(\.1).max() ?? 1)
        let (headline, stageChanges, alerts, recent) = totals(eventsPerSec: eventsPerSec)
        var out = headline + "  (Ctrl-C to stop)\n"
        out += "\(stageChanges) stage changes · \(alerts) hot-lead alerts\n\nFunnel\n"
        for (name, c) in counts {
            let width = Int((Double(c) / Double(maxCount) * 40).rounded(.up))
            out += "  " + name.padding(toLength: 13, withPad: " ", startingAt: 0) + String(repeating: "█", count: width) + " \(c)\n"
        }
        out += "\nLatest stage changes\n"
        for e in recent.filter({ $0.type == "stage_changed" }).suffix(6) { out += "  \(e.text)\n" }
        out += "\nLatest hot-lead alerts\n"
        for e in recent.filter({ $0.type != "stage_changed" }).suffix(6) { out += "  \(e.text)\n" }
        return out
    }

    /// Stops traffic, the daemon (SIGTERM: final checkpoint and commit) and the view; returns the summary.
    func stop() -> String {
        stopping.store(true, ordering: .relaxed)
        done.wait()
        let status = daemon?.stop() ?? 0
        watcher.stop()
        let counts = stageCounts().map { "\($0.0) \($0.1)" }.joined(separator: ", ")
        let (stageChanges, alerts) = watcher.state.withLock { ($0.stageChanges, $0.alerts) }
        let log = daemon?.logTail(5) ?? ""
        tmp.remove()
        var s = "\nleadscore demo stopped after \(Int(Date().timeIntervalSince(started))) s: \(produced.load(ordering: .relaxed)) events, \(stageChanges) stage changes, \(alerts) alerts (daemon exit status \(status)).\nFunnel: \(counts)\n"
        if status != 0 { s += "daemon log:\n\(log)\n" }
        return s
    }
}
