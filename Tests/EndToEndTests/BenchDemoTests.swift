import Foundation
import Testing

@Suite(.serialized) struct BenchAndDemoTests {
    @Test func benchSpawnsDaemonAndMatchesReplay() throws {
        let (status, out, err) = try runToEnd(leadscoredBinary(), ["bench", "--events", "20000", "--daemon", "spawn", "--contacts", "3000", "--seed", "11"])
        #expect(status == 0, "bench failed: \(err.suffix(3000))")
        let last = out.split(separator: "\n").last.map(String.init) ?? ""
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any], "no JSON line in: \(out)")
        #expect(obj["events"] as? Int == 20000)
        #expect(obj["mismatched_contacts"] as? Int == 0, "\(last)\n\(err.suffix(2000))")
        #expect(obj["duplicates"] as? Int == 0)
        let latency = try #require(obj["latency_ms"] as? [String: Any])
        for k in ["p50", "p99", "p999", "max"] {
            let v = try #require((latency[k] as? NSNumber)?.doubleValue, "latency \(k) missing")
            #expect(v > 0)
        }
        #expect(((obj["stage_changes"] as? Int) ?? 0) > 0)
        #expect(((obj["alerts"] as? Int) ?? 0) > 0)
        #expect(((obj["raw_consume_events_per_sec"] as? Int) ?? 0) > 0)
        #expect(((obj["events_per_sec"] as? Int) ?? 0) > 0)
    }

    @Test func demoWithoutTerminalShowsProgressAndStopsCleanlyOnCtrlC() throws {
        try runDemo(inPseudoTerminal: false)
    }

    @Test func demoInPseudoTerminalRedrawsAndStopsCleanlyOnCtrlC() throws {
        try runDemo(inPseudoTerminal: true)
    }

    /// The demo does not go on showing frozen counters when its daemon dies: it stops, says so, exits 2.
    @Test func demoStopsWithExitTwoWhenItsDaemonIsKilled() throws {
        try runDemo(inPseudoTerminal: false, killDaemon: true)
    }

    /// Runs the demo ~10 s (under `script` for a pseudo-terminal), then SIGINT: exit 0, stages advanced,
    /// alerts seen, no process left behind.
    private func runDemo(inPseudoTerminal: Bool, killDaemon: Bool = false) throws {
        let tag = "demo-test-\(UUID().uuidString.prefix(8))"
        let exe = leadscoredBinary()
        let p = Process()
        let out = Pipe()
        if inPseudoTerminal {
            p.executableURL = URL(fileURLWithPath: "/usr/bin/script")
            p.arguments = ["-q", "-e", "-c", "\(exe) demo --rate 400 --seed 3 --contacts 300", "/dev/null"]
        } else {
            p.executableURL = URL(fileURLWithPath: exe)
            p.arguments = ["demo", "--rate", "400", "--seed", "3", "--contacts", "300"]
        }
        p.environment = ProcessInfo.processInfo.environment.merging(["LEADSCORE_TEST_TAG": tag]) { $1 }
        p.standardOutput = out
        p.standardError = out
        p.standardInput = Pipe()
        try p.run()
        let text = Mutexed("")
        let reader = Thread {
            while true {
                let d = out.fileHandleForReading.availableData
                if d.isEmpty { break }
                text.set(text.get() + String(decoding: d, as: UTF8.self))
            }
        }
        reader.start()
        // Wait until alerts have been shown (a condition, not a fixed sleep), at most 60 s.
        let deadline = Date().addingTimeInterval(60)
        /// The last "N stage changes · M hot-lead alerts" line shows both counts above zero.
        func alertsShown() -> Bool {
            let t = text.get()
            guard let r = t.range(of: " hot-lead alerts", options: .backwards) else { return false }
            let line = t[..<r.lowerBound].split(whereSeparator: { $0 == "\n" || $0 == "|" }).last ?? ""
            let nums = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            return nums.count >= 2 && nums[nums.count - 2] > 0 && nums[nums.count - 1] > 0
        }
        while Date() < deadline && !alertsShown() && p.isRunning { Thread.sleep(forTimeInterval: 0.2) }
        #expect(alertsShown(), "demo output: \(text.get().suffix(2000))")
        if !inPseudoTerminal {   // the log-friendly view: the funnel on each line, then the new records
            #expect(text.get().contains("funnel: lead "))
            #expect(text.get().contains("\n  stage ") || text.get().contains("\n  alert "))
        }
        /// The demo's daemon (its data directory is under the demo's temporary directory).
        func demoDaemons() -> [Int32] {
            processes(matching: "leadscored run ").filter { pid in
                (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8))?.contains("leadscore-demo") ?? false
            }
        }
        if killDaemon {
            let daemons = demoDaemons()
            #expect(daemons.count == 1)
            for pid in daemons { kill(pid, SIGKILL) }
        } else {
            // Ctrl-C goes to the demo itself (not to `script`, which would close the terminal under it).
            let demoPids = processes(matching: " demo --rate 400").filter { pid in
                guard let cmd = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")) else { return false }
                let argv = cmd.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
                return argv.count > 1 && argv[0].hasSuffix("leadscored") && argv[1] == "demo"
            }
            #expect(!demoPids.isEmpty)
            for pid in demoPids { kill(pid, SIGINT) }
        }
        let stopDeadline = Date().addingTimeInterval(30)
        while p.isRunning && Date() < stopDeadline { Thread.sleep(forTimeInterval: 0.1) }
        #expect(!p.isRunning, killDaemon ? "demo went on without its daemon" : "demo did not stop on Ctrl-C")
        if p.isRunning { p.terminate() }
        p.waitUntilExit()
        reader.cancel()
        #expect(p.terminationStatus == (killDaemon ? 2 : 0), "exit status \(p.terminationStatus): \(text.get().suffix(2000))")
        #expect(text.get().contains("leadscore demo stopped"))
        if killDaemon { #expect(text.get().contains("the daemon exited")) }
        // No daemon or demo left behind.
        let leftovers = demoDaemons()
        #expect(leftovers.isEmpty, "left behind: \(leftovers)")
        #expect(processes(matching: " demo --rate 400 --seed 3").filter { $0 != getpid() }.isEmpty)
    }
}
