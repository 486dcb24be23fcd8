import Foundation
import Testing

/// The `leadscored` binary the end-to-end tests run (`make test` builds it once in release).
func leadscoredBinary() -> String {
    if let p = ProcessInfo.processInfo.environment["LEADSCORED_BIN"], FileManager.default.isExecutableFile(atPath: p) { return p }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    for c in ["/.build/release/leadscored", "/.build/debug/leadscored"] where FileManager.default.isExecutableFile(atPath: root + c) {
        return root + c
    }
    return root + "/.build/debug/leadscored"
}

/// Runs a process to completion, returning status, stdout and stderr.
func runToEnd(_ exe: String, _ args: [String], stdin: Data? = nil) throws -> (Int32, String, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = args
    let out = Pipe(), err = Pipe(), inp = Pipe()
    p.standardOutput = out; p.standardError = err; p.standardInput = inp
    try p.run()
    let outData = Mutexed(Data()), errData = Mutexed(Data())
    let g = DispatchGroup()
    g.enter(); DispatchQueue.global().async { outData.set(out.fileHandleForReading.readDataToEndOfFile()); g.leave() }
    g.enter(); DispatchQueue.global().async { errData.set(err.fileHandleForReading.readDataToEndOfFile()); g.leave() }
    if let stdin { inp.fileHandleForWriting.write(stdin) }
    try? inp.fileHandleForWriting.close()
    p.waitUntilExit(); g.wait()
    return (p.terminationStatus, String(decoding: outData.get(), as: UTF8.self), String(decoding: errData.get(), as: UTF8.self))
}

final class Mutexed<T>: @unchecked Sendable {
    private var v: T; private let l = NSLock()
    init(_ v: T) { self.v = v }
    func set(_ n: T) { l.lock(); v = n; l.unlock() }
    func get() -> T { l.lock(); defer { l.unlock() }; return v }
}

/// PIDs of processes whose command line contains `needle`.
func processes(matching needle: String) -> [Int32] {
    let items = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return items.compactMap { Int32($0) }.filter { pid in
        guard let cmd = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")) else { return false }
        return String(decoding: cmd.map { $0 == 0 ? 32 : $0 }, as: UTF8.self).contains(needle)
    }
}

/// Waits for `condition` with a deadline (no fixed sleeps in assertions).
func eventually(_ seconds: Double, every: Double = 0.2, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: every)
    }
    return try condition()
}

/// A scratch directory per test.
func scratchDir(_ name: String) -> String {
    let d = NSTemporaryDirectory() + "leadscore-e2e-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

/// A `leadscored dev-broker` process (one per suite), with its control socket.
final class DevBroker: @unchecked Sendable {
    let process = Process()
    let bootstrap: String
    let controlSocket: String

    init(brokers: Int = 1) throws {
        let dir = scratchDir("broker")
        let file = dir + "/bootstrap"
        process.executableURL = URL(fileURLWithPath: leadscoredBinary())
        process.arguments = ["dev-broker", "--brokers", "\(brokers)", "--bootstrap-file", file]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        guard eventually(20, every: 0.05, { FileManager.default.fileExists(atPath: file) }),
              let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            process.terminate()
            throw TestFailure("dev-broker did not start")
        }
        bootstrap = text.trimmingCharacters(in: .whitespacesAndNewlines)
        controlSocket = file + ".ctl"
    }

    /// Sends a fault-injection command; returns the answer line.
    @discardableResult
    func control(_ line: String) throws -> String {
        let (status, out, err) = try runToEnd("/usr/bin/python3", ["-c", """
        import socket,sys
        s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall((sys.argv[2]+"\\n").encode())
        print(s.makefile().readline().strip())
        """, controlSocket, line])
        guard status == 0 else { throw TestFailure("control \(line): \(err)") }
        return out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func createTopics(_ names: [String], partitions: Int) throws {
        for n in names {
            let a = try control("create \(n) \(partitions)")
            guard a == "ok" else { throw TestFailure("create \(n): \(a)") }
        }
    }

    deinit { if process.isRunning { process.terminate(); process.waitUntilExit() } }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// A `leadscored run` process.
final class DaemonUnderTest: @unchecked Sendable {
    let process = Process()
    let logPath: String

    init(_ args: [String], logPath: String) throws {
        self.logPath = logPath
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.executableURL = URL(fileURLWithPath: leadscoredBinary())
        process.arguments = ["run"] + args
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// The HTTP port the daemon logged (`--http-port 0`).
    var httpPort: Int? {
        guard let r = log.range(of: #"http listening on [0-9.]+:([0-9]+)"#, options: [.regularExpression, .backwards]) else { return nil }
        return Int(log[r].split(separator: ":").last!)
    }

    func kill9() { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }

    /// SIGTERM and wait; returns (exit status, seconds taken).
    func terminate(timeout: Double = 30) -> (Int32, Double) {
        let t0 = Date()
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit(); return (-9, timeout) }
        return (process.terminationStatus, Date().timeIntervalSince(t0))
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
}

/// A plain HTTP GET on 127.0.0.1 (status, body).
func httpGet(port: Int, path: String) -> (Int, String)? {
    guard let (status, out, _) = try? runToEnd("/usr/bin/curl", ["-s", "-m", "5", "-w", "\n%{http_code}", "http://127.0.0.1:\(port)\(path)"]),
          status == 0 else { return nil }
    let lines = out.split(separator: "\n", omittingEmptySubsequences: false)
    guard let code = lines.last.flatMap({ Int($0) }) else { return nil }
    return (code, lines.dropLast().joined(separator: "\n"))
}

/// Produces keyed lines (`KEY\tVALUE`) with kcat (librdkafka's default partitioner, like Segment's producers).
/// The values of the daemon's metric samples whose line starts with `prefix` (name and labels).
func samples(_ port: Int, _ prefix: String) -> [Double] {
    (httpGet(port: port, path: "/metrics")?.1 ?? "").split(separator: "\n").filter { $0.hasPrefix(prefix) }.compactMap { Double($0.split(separator: " ").last!) }
}

func kcatProduce(_ bootstrap: String, topic: String, lines: [String]) throws {
    let file = scratchDir("produce") + "/in.tsv"
    try (lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
    // Idempotent, so retries after injected broker errors cannot reorder a partition (replay reads the file's order).
    let (s, _, err) = try runToEnd("/usr/bin/kcat", ["-P", "-b", bootstrap, "-t", topic, "-K", "\t", "-X", "enable.idempotence=true", "-l", file])
    guard s == 0 else { throw TestFailure("kcat produce: \(err)") }
}

/// Every message of a topic, read with kcat (JSON envelope: key, payload, headers, partition, offset).
func kcatConsume(_ bootstrap: String, topic: String) throws -> [[String: Any]] {
    let (s, out, err) = try runToEnd("/usr/bin/kcat", ["-C", "-b", bootstrap, "-t", topic, "-e", "-q", "-J"])
    guard s == 0 else { throw TestFailure("kcat consume \(topic): \(err)") }
    return out.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
}

/// Output records by id, without trigger topic/partition/offset (CONTRACTS §4 "outputs equal replay").
func normalizedRecords(_ payloads: [String]) -> (byId: [String: String], duplicates: Int, conflicting: Int) {
    var byId: [String: String] = [:]
    var dups = 0, conflicting = 0
    for p in payloads {
        guard var o = try? JSONSerialization.jsonObject(with: Data(p.utf8)) as? [String: Any], let id = o["id"] as? String else { continue }
        if var t = o["trigger"] as? [String: Any] { t["topic"] = nil; t["partition"] = nil; t["offset"] = nil; o["trigger"] = t }
        let text = String(decoding: try! JSONSerialization.data(withJSONObject: o, options: [.sortedKeys]), as: UTF8.self)
        if let old = byId[id] { dups += 1; if old != text { conflicting += 1 } } else { byId[id] = text }
    }
    return (byId, dups, conflicting)
}

/// What differs between published and replayed records, for a failure message: counts and one example of each.
func recordDifference(_ got: [String: String], _ expected: [String: String]) -> String {
    let missing = expected.keys.filter { got[$0] == nil }.sorted()
    let extra = got.keys.filter { expected[$0] == nil }.sorted()
    let changed = expected.keys.filter { got[$0] != nil && got[$0] != expected[$0] }.sorted()
    var text = "\(missing.count) missing, \(extra.count) extra, \(changed.count) different"
    if let m = missing.first { text += "\nmissing: \(expected[m]!)" }
    if let e = extra.first { text += "\nextra: \(got[e]!)" }
    if let c = changed.first { text += "\npublished: \(got[c]!)\nreplay:    \(expected[c]!)" }
    return text
}

/// The example rules every end-to-end test scores with.
let exampleRules = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path + "/examples/rules.yaml"

/// `leadscored generate` keyed lines (`key<TAB>json`) and the matching plain JSONL.
func generatedStream(events: Int, contacts: Int, seed: Int) throws -> (keyed: [String], jsonl: String) {
    let (s, out, err) = try runToEnd(leadscoredBinary(), ["generate", "--events", "\(events)", "--contacts", "\(contacts)", "--seed", "\(seed)", "--keyed"])
    guard s == 0 else { throw TestFailure("generate: \(err)") }
    let keyed = out.split(separator: "\n").map(String.init)
    return (keyed, keyed.map { String($0.split(separator: "\t", maxSplits: 1)[1]) }.joined(separator: "\n") + "\n")
}

/// What `replay --partitions N` publishes for the stream (by id), and every contact's final view (by contact id).
func replayed(_ jsonl: String, partitions: Int, dir: String) throws -> (records: [String: String], contacts: [String: [String: Any]]) {
    let file = dir + "/replay-in.jsonl", contactsFile = dir + "/replay-contacts.jsonl"
    try jsonl.write(toFile: file, atomically: true, encoding: .utf8)
    let (s, out, err) = try runToEnd(leadscoredBinary(), ["replay", "--rules", exampleRules, "--events", file, "--partitions", "\(partitions)", "--contacts-out", contactsFile])
    guard s == 0 else { throw TestFailure("replay: \(err)") }
    var contacts: [String: [String: Any]] = [:]
    for line in try String(contentsOfFile: contactsFile, encoding: .utf8).split(separator: "\n") {
        if let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let id = o["contact_id"] as? String { contacts[id] = o }
    }
    return (normalizedRecords(out.split(separator: "\n").map(String.init)).byId, contacts)
}

/// Writes the config the end-to-end daemons run with: a fast group (6 s session), 1 s checkpoints, any free
/// HTTP port, the example rules. `topics` are the `topics:` entries besides `inputs` (stage_changes, alerts, dlq, …).
func writeDaemonConfig(_ path: String, bootstrap: String, group: String, input: String, topics: [(String, String)],
                       dataDir: String? = nil, extra: String = "") throws {
    var yaml = """
    kafka:
      bootstrap_servers: \(bootstrap)
      group_id: \(group)
      properties:
        session.timeout.ms: "6000"
        heartbeat.interval.ms: "500"
    topics:
      inputs: [\(input)]

    """
    for (k, v) in topics { yaml += "  \(k): \(v)\n" }
    yaml += "rules: \(exampleRules)\n"
    if let dataDir { yaml += "data_dir: \(dataDir)\n" }
    yaml += "checkpoint:\n  interval: 1s\nhttp:\n  port: 0\nlog:\n  format: text\n" + extra + "\n"
    try yaml.write(toFile: path, atomically: true, encoding: .utf8)
}
