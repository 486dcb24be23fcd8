import ArgumentParser
import Foundation
import LeadKafka
import LeadScoring

/// `leadscored replay`: offline, deterministic scoring of a JSON-lines event file (or a topic) through the very
/// engine the daemon uses (CONTRACTS §1), one engine per partition exactly as the daemon's input is split.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Score Segment events offline and write the records the daemon would publish.",
        discussion: """
            Records go one JSON object per line, in input order, to --out or stdout; the summary and invalid \
            lines go to stderr. Exit codes: 0 success, 1 bad rules or unreadable input, 2 runtime failure.
            """)

    @Option(name: .long, help: "The rules file (YAML).")
    var rules: String

    @Option(name: .long, help: "Events, one Segment JSON object per line, applied in file order.")
    var events: String?

    @Option(name: .long, help: "Write the records here (one JSON object per line) instead of stdout.")
    var out: String?

    @Flag(name: .long, help: "Print the funnel: contacts per stage, conversion, median times, top rules (stdout with --out, else stderr).")
    var report = false

    @Option(name: .customLong("contacts-out"), help: "Write every contact's final state here, one JSON object per line, as GET /contacts/{id} shows it.")
    var contactsOut: String?

    @Option(name: .long, help: "Split events by contact id like the daemon's input topic (CRC-32 mod N).")
    var partitions: Int = 1

    @Option(name: .customLong("from-topic"), help: "Read the events from this Kafka topic instead of a file.")
    var fromTopic: String?

    @Option(name: .customLong("bootstrap-servers"), help: "Kafka bootstrap servers for --from-topic.")
    var bootstrapServers: String?

    @Option(name: .customLong("idle-timeout-ms"), help: "--from-topic: stop after this long without new messages.")
    var idleTimeoutMs: Int = 3000

    @Option(name: .customLong("max-future-skew-s"), help: "--from-topic: event times further than this ahead of the message timestamp are invalid.")
    var maxFutureSkewSeconds: Int = 3600

    func validate() throws {
        if partitions < 1 { throw ValidationError("--partitions must be at least 1") }
    }

    /// Checked in `run`, not `validate`: ArgumentParser reports a failed `validate()` before an unknown flag, so
    /// a mistyped `--event` would read "give --events …" instead of naming the flag it did not know.
    private func checkInput() throws {
        if events == nil && fromTopic == nil { throw ValidationError("give --events FILE.jsonl or --from-topic T") }
        if events != nil && fromTopic != nil { throw ValidationError("give either --events or --from-topic, not both") }
        if fromTopic != nil && bootstrapServers == nil { throw ValidationError("--from-topic needs --bootstrap-servers") }
    }

    func run() throws {
        try checkInput()
        let loaded: Rules
        do {
            loaded = try RulesLoader.load(path: rules)
        } catch {
            stderr("\(error)")
            throw ExitCode(1)
        }
        let sink: RecordSink
        do {
            sink = try RecordSink(path: out)
        } catch {
            stderr("replay: cannot write \(out ?? "stdout"): \(error)")
            throw ExitCode(2)
        }
        var session: ReplaySession
        if let path = events {
            session = ReplaySession(rules: loaded, partitions: partitions, trackFunnel: report)
            try replayFile(path, &session, sink)
        } else {
            session = try replayTopic(fromTopic!, rules: loaded, sink: sink)
        }
        do { try sink.close() } catch {
            stderr("replay: write failed: \(error)")
            throw ExitCode(2)
        }
        stderr(session.summary)
        if let contactsOut {
            do { try writeContacts(session, to: contactsOut) } catch {
                stderr("replay: cannot write \(contactsOut): \(error)")
                throw ExitCode(2)
            }
        }
        // Records own stdout unless --out is given; the report then goes to stderr to keep stdout JSON lines.
        if report {
            if out != nil { print(session.reportText(), terminator: "") } else { stderr(session.reportText()) }
        }
    }

    /// The final views of all contacts (sorted by id), with the partition like the daemon's HTTP answer.
    private func writeContacts(_ session: ReplaySession, to path: String) throws {
        var out: [UInt8] = []
        for (p, engine) in session.engines.enumerated() {
            for id in engine.contactIDs.sorted() {
                guard var json = engine.contact(id)?.json, json.last == UInt8(ascii: "}") else { continue }
                json.removeLast()
                out += json + Array(",\"partition\":\(p)}\n".utf8)
            }
        }
        try Data(out).write(to: URL(fileURLWithPath: path))
    }

    private func replayFile(_ path: String, _ session: inout ReplaySession, _ sink: RecordSink) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            stderr("\(path): cannot read the events file")
            throw ExitCode(1)
        }
        let bytes = [UInt8](data)
        var lineNumber = 0
        var start = 0
        var batch: [OutputRecord] = []
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            lineNumber += 1
            batch.removeAll(keepingCapacity: true)
            let error = bytes.withUnsafeBufferPointer { buf in
                session.line(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: buf[start..<end])), number: lineNumber, into: &batch)
            }
            if let error, session.invalid <= 20 { stderr("\(path):\(lineNumber): invalid event: \(error)") }
            do { try sink.write(batch) } catch {
                stderr("replay: write failed: \(error)")
                throw ExitCode(2)
            }
            start = end + 1
        }
    }

    /// Reads the topic from the beginning until it has been idle for `idleTimeoutMs`; each message is scored
    /// in the engine of the partition it arrived in, with topic/partition/offset in its records' trigger.
    private func replayTopic(_ topic: String, rules: Rules, sink: RecordSink) throws -> ReplaySession {
        let config = KafkaConfig(bootstrapServers: bootstrapServers!, clientId: "leadscored-replay")
        let count: Int
        do {
            count = try KafkaAdmin.partitionCounts(config: config, topics: [topic])[topic] ?? 0
        } catch {
            stderr("replay: \(error)")
            throw ExitCode(2)
        }
        guard count > 0 else {
            stderr("replay: topic \(topic) does not exist on \(bootstrapServers!)")
            throw ExitCode(1)
        }
        let reader = TopicReader(session: ReplaySession(rules: rules, partitions: count, trackFunnel: report),
                                 sink: sink, skew: EventDuration(maxFutureSkewSeconds) * TimeUnit.second)
        var options = ConsumerOptions(groupId: "leadscored-replay-\(ProcessInfo.processInfo.processIdentifier)-\(UInt64(Date().timeIntervalSince1970 * 1000))")
        options.autoOffsetReset = "earliest"
        let consumer: KafkaConsumer
        do {
            consumer = try KafkaConsumer(config: config, topics: [topic], options: options, delegate: reader)
            try consumer.start()
        } catch {
            stderr("replay: \(error)")
            throw ExitCode(2)
        }
        while !reader.idle(for: Double(idleTimeoutMs) / 1000) { Thread.sleep(forTimeInterval: 0.05) }
        consumer.closeBlocking()
        return try reader.finish()
    }
}

/// Receives batches on the consumer's poll thread and scores them in arrival order.
final class TopicReader: KafkaConsumerDelegate, @unchecked Sendable {
    private struct State {
        var session: ReplaySession
        var lastActivity = Date()
        var writeError: (any Error)?
    }
    private var stateValue: State
    private let lock = NSLock()
    private let sink: RecordSink
    private let skew: EventDuration
    private let started = Date()

    private func withState<T>(_ body: (inout State) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&stateValue)
    }

    init(session: ReplaySession, sink: RecordSink, skew: EventDuration) {
        stateValue = State(session: session)
        self.sink = sink
        self.skew = skew
    }

    func consumer(_ consumer: KafkaConsumer, received batch: MessageBatch) {
        withState { st in
            var out: [OutputRecord] = []
            for m in batch {
                do throws(InvalidEvent) {
                    let event = try SegmentDecoder.scan(m.value)
                    if let ts = m.timestampMillis, event.timestamp > ts * 1000 + skew {
                        throw InvalidEvent(.futureTimestamp, "event time beyond message timestamp + skew")
                    }
                    let trigger = Trigger(messageId: "", topic: m.topic, partition: m.partition, offset: m.offset)
                    st.session.apply(event, in: m.value, trigger: trigger, partition: Int(m.partition), into: &out)
                } catch {
                    st.session.countInvalid(error, line: Int(m.offset))
                    // As for a file (FILE:LINE), the first 20, here as TOPIC:PARTITION:OFFSET.
                    if st.session.invalid <= 20 {
                        stderr("\(m.topic):\(m.partition):\(m.offset): invalid event: \(error)")
                    }
                }
            }
            do { try sink.write(out) } catch { st.writeError = error }
            st.lastActivity = Date()
        }
    }

    func consumer(_ consumer: KafkaConsumer, revoking partitions: [TopicPartition], lost: Bool) {}
    func consumer(_ consumer: KafkaConsumer, assigned partitions: [TopicPartition]) -> [TopicPartition: Int64] {
        withState { $0.lastActivity = Date() }
        return [:]
    }
    func consumer(_ consumer: KafkaConsumer, error: KafkaError) { stderr("replay: \(error)") }

    /// True when nothing arrived for `seconds` (and the group had time to assign partitions).
    func idle(for seconds: Double) -> Bool {
        withState { Date().timeIntervalSince($0.lastActivity) >= seconds && Date().timeIntervalSince(started) >= seconds + 3 }
    }

    func finish() throws -> ReplaySession {
        try withState { st in
            if let e = st.writeError {
                stderr("replay: write failed: \(e)")
                throw ExitCode(2)
            }
            return st.session
        }
    }
}

/// Buffered output of records, one JSON object per line.
final class RecordSink: @unchecked Sendable {
    private let handle: FileHandle
    private let ownsHandle: Bool
    private var buffer: [UInt8] = []

    init(path: String?) throws {
        if let path {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw CocoaError(.fileWriteNoPermission)
            }
            handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            ownsHandle = true
        } else {
            handle = FileHandle.standardOutput
            ownsHandle = false
        }
        buffer.reserveCapacity(1 << 20)
    }

    func write(_ records: [OutputRecord]) throws {
        for r in records { buffer.append(contentsOf: r.json); buffer.append(0x0A) }
        if buffer.count >= 1 << 20 { try flush() }
    }

    func flush() throws {
        if buffer.isEmpty { return }
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    func close() throws {
        try flush()
        if ownsHandle { try handle.close() }
    }
}

