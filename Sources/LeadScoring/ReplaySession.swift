/// The offline replay of CONTRACTS §1 without its I/O: scans event lines (as the daemon does), routes each to
/// the engine of its partition (CRC-32 of the contact id mod N, as the daemon's input is split), collects
/// counters and the funnel for `--report`. Shared by `leadscored replay`, the bench harness (expected stages) and tests.
public struct ReplaySession {
    public let rules: Rules
    /// One engine per partition, each with its own event-time watermark.
    public let engines: [PartitionEngine]
    public private(set) var events = 0
    public private(set) var invalid = 0
    /// Invalid lines: (line number, reason) of the first `maxInvalidSamples`.
    public private(set) var invalidSamples: [(line: Int, error: InvalidEvent)] = []
    public var maxInvalidSamples = 20
    public private(set) var duplicates = 0
    public private(set) var ignored = 0
    public private(set) var stageChanges = 0
    public private(set) var alerts = 0

    private let trackFunnel: Bool
    private var firstSeen: [String: EventTime] = [:]
    private var reachedMQL: [String: EventTime] = [:]
    private var reachedSQL: [String: EventTime] = [:]
    /// Event time spent in a stage before an upward move, by the stage left (the records' `timeInPreviousStage`,
    /// which the daemon exports as `leadscore_time_in_stage_seconds`).
    private var upwardTimeInStage: [Stage: [EventDuration]] = [:]
    /// Last stage published per contact (bench: `mismatched_contacts`).
    public private(set) var lastPublishedStage: [String: Stage] = [:]

    public init(rules: Rules, partitions: Int = 1, options: EngineOptions = .init(), trackFunnel: Bool = true) {
        self.rules = rules
        self.engines = (0..<max(1, partitions)).map { _ in PartitionEngine(rules: rules, options: options) }
        self.trackFunnel = trackFunnel
    }

    /// The engine (partition) of a contact.
    @inline(__always) public func partition(of contactId: String) -> Int {
        engines.count == 1 ? 0 : Partitioner.partition(key: contactId, count: engines.count)
    }

    /// One line of a JSON-lines file: blank lines are skipped, invalid ones counted (and sampled).
    /// Returns the decoding error of an invalid line.
    @discardableResult
    public mutating func line(_ bytes: UnsafeRawBufferPointer, number: Int, into out: inout [OutputRecord]) -> InvalidEvent? {
        var blank = true
        for b in bytes where b != 0x20 && b != 0x09 && b != 0x0D && b != 0x0A { blank = false; break }
        if blank { return nil }
        let event: RawSegmentEvent
        do {
            event = try SegmentDecoder.scan(bytes)
        } catch {
            events += 1
            invalid += 1
            if invalidSamples.count < maxInvalidSamples { invalidSamples.append((number, error)) }
            return error
        }
        apply(event, in: bytes, trigger: Trigger(messageId: ""), into: &out)
        return nil
    }

    /// Counts an event that failed decoding or validation elsewhere (e.g. the future-skew check).
    public mutating func countInvalid(_ error: InvalidEvent, line: Int) {
        events += 1
        invalid += 1
        if invalidSamples.count < maxInvalidSamples { invalidSamples.append((line, error)) }
    }

    /// Applies a decoded event to its partition's engine: `partition` when given (a Kafka message is scored
    /// in the partition where it arrived), else CRC-32 of the contact id mod N.
    public mutating func apply(_ event: SegmentEvent, trigger: Trigger, partition: Int? = nil, into out: inout [OutputRecord]) {
        applyEvent(event, trigger: trigger, partition: partition, into: &out)
    }

    /// The same for a scanned event and the bytes it was scanned from (`trigger.messageId` may be empty).
    public mutating func apply(_ event: RawSegmentEvent, in bytes: UnsafeRawBufferPointer, trigger: Trigger,
                               partition: Int? = nil, into out: inout [OutputRecord]) {
        applyEvent(RawEventInput(raw: event, bytes: bytes), trigger: trigger, partition: partition, into: &out)
    }

    private mutating func applyEvent<E: EngineEvent>(_ event: E, trigger: Trigger, partition: Int?, into out: inout [OutputRecord]) {
        events += 1
        let count = engines.count
        let engine = engines[partition ?? (count == 1 ? 0 : event.withContactId { Partitioner.partition(utf8: $0, count: count) })]
        let before = out.count
        let known = engine.contactCount
        switch engine.apply(event, trigger: trigger, into: &out) {
        case .duplicate: duplicates += 1
        case .ignored: ignored += 1
        case .scored:
            // A contact's first scored event creates it in its engine (a String only then).
            if trackFunnel, engine.contactCount > known {
                let id = event.contactIdString()
                if firstSeen[id] == nil { firstSeen[id] = event.timestamp }
            }
        }
        guard out.count > before else { return }
        for r in out[before...] {
            switch r.kind {
            case .alert: alerts += 1
            case .stageChange:
                stageChanges += 1
                guard let (from, to) = Self.transition(of: r) else { continue }
                lastPublishedStage[r.contactId] = to
                guard trackFunnel else { continue }
                if let d = r.timeInPreviousStage, Self.isUpward(from: from, to: to) { upwardTimeInStage[from, default: []].append(d) }
                // Entries into the funnel happen at the contact's newest event time (recycles go to lead).
                guard to != .lead && to != .disqualified,
                      let at = engine.contact(r.contactId)?.lastEventTime else { continue }
                if to >= .mql && reachedMQL[r.contactId] == nil { reachedMQL[r.contactId] = at }
                if to >= .sql && reachedSQL[r.contactId] == nil { reachedSQL[r.contactId] = at }
            }
        }
    }

    /// (from, to) of a stage-change record, read from its id `CONTACT:stage:FROM>TO:MESSAGEID`.
    static func transition(of r: OutputRecord) -> (Stage, Stage)? {
        let rest = r.id.utf8.dropFirst(r.contactId.utf8.count + ":stage:".utf8.count)
        guard let colon = rest.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let pair = String(decoding: rest[..<colon], as: UTF8.self)
        let parts = pair.split(separator: ">", maxSplits: 1)
        guard parts.count == 2, let from = Stage(name: String(parts[0])), let to = Stage(name: String(parts[1])) else { return nil }
        return (from, to)
    }

    /// A move up the funnel (disqualification and requalification are not).
    static func isUpward(from: Stage, to: Stage) -> Bool { from != .disqualified && to != .disqualified && to > from }

    public var contacts: Int { engines.reduce(0) { $0 + $1.contactCount } }

    /// The one-line summary printed on stderr.
    public var summary: String {
        "replay: \(events) events, \(invalid) invalid, \(duplicates) duplicates, \(ignored) ignored, "
            + "\(contacts) contacts, \(stageChanges) stage changes, \(alerts) alerts, \(engines.count) partition(s)"
    }

    // MARK: - report

    public struct Funnel: Sendable {
        public var contactsPerStage: [(stage: Stage, contacts: Int)]
        public var contacts: Int
        public var reachedMQL: Int
        public var reachedSQL: Int
        /// reached MQL / all contacts; reached SQL / reached MQL (nil when the denominator is 0).
        public var leadToMQL: Double?
        public var mqlToSQL: Double?
        /// Median event time from first event to MQL, and from MQL to SQL (µs).
        public var medianLeadToMQL: EventDuration?
        public var medianMQLToSQL: EventDuration?
        /// Per funnel stage left upwards (lead → mql or beyond, mql → sal or beyond, …): how many such moves had
        /// a known time in stage, and its median (µs) — the median of `leadscore_time_in_stage_seconds` summed
        /// over the `to` stages above `from`.
        public var timeInStageBeforeMovingUp: [(stage: Stage, moves: Int, median: EventDuration)]
        /// Engagement rules by |total awarded points| then firings.
        public var topRules: [(rule: String, firings: Int, points: Double)]
    }

    public func funnel() -> Funnel {
        var perStage: [Stage: Int] = [:]
        for e in engines { for (s, n) in e.stageCounts() { perStage[s, default: 0] += n } }
        let stages = (Stage.funnel + [.disqualified]).map { ($0, perStage[$0] ?? 0) }
        var toMQL: [EventDuration] = []
        for (c, at) in reachedMQL { if let f = firstSeen[c] { toMQL.append(max(0, at - f)) } }
        var toSQL: [EventDuration] = []
        for (c, at) in reachedSQL { if let m = reachedMQL[c] { toSQL.append(max(0, at - m)) } }
        var firings = Array(repeating: 0, count: rules.engagement.count)
        var points = Array(repeating: 0.0, count: rules.engagement.count)
        for e in engines {
            for i in firings.indices { firings[i] += e.ruleFirings[i]; points[i] += e.ruleAwarded[i] }
        }
        var top = rules.engagement.indices.map { (rule: rules.engagement[$0].name, firings: firings[$0], points: points[$0]) }
        top.sort { a, b in
            a.points.magnitude != b.points.magnitude ? a.points.magnitude > b.points.magnitude
                : (a.firings != b.firings ? a.firings > b.firings : a.rule < b.rule)
        }
        let upward = Stage.funnel.compactMap { s in
            upwardTimeInStage[s].flatMap { ds in Self.median(ds).map { (stage: s, moves: ds.count, median: $0) } }
        }
        let n = contacts
        return Funnel(contactsPerStage: stages, contacts: n, reachedMQL: reachedMQL.count, reachedSQL: reachedSQL.count,
                      leadToMQL: n > 0 ? Double(reachedMQL.count) / Double(n) : nil,
                      mqlToSQL: reachedMQL.isEmpty ? nil : Double(reachedSQL.count) / Double(reachedMQL.count),
                      medianLeadToMQL: Self.median(toMQL), medianMQLToSQL: Self.median(toSQL),
                      timeInStageBeforeMovingUp: upward, topRules: top)
    }

    static func median(_ xs: [EventDuration]) -> EventDuration? {
        guard !xs.isEmpty else { return nil }
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// "3d 04:05:06" style duration.
    static func duration(_ d: EventDuration?) -> String {
        guard let d else { return "n/a" }
        let secs = d / 1_000_000
        let days = secs / 86_400, h = secs / 3600 % 24, m = secs / 60 % 60, s = secs % 60
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return (days > 0 ? "\(days)d " : "") + "\(two(h)):\(two(m)):\(two(s))"
    }

    static func percent(_ x: Double?) -> String {
        guard let x else { return "n/a" }
        return JSONWriter.formatNumber((x * 1000).rounded() / 10) + "%"
    }

    static func pad(_ s: String, _ w: Int, right: Bool = false) -> String {
        let n = s.count
        if n >= w { return s }
        let fill = String(repeating: " ", count: w - n)
        return right ? fill + s : s + fill
    }

    /// The `--report` table.
    public func reportText() -> String {
        let f = funnel()
        var o = "Funnel (contacts per stage, \(f.contacts) contacts)\n"
        for (s, n) in f.contactsPerStage { o += "  " + Self.pad(s.name, 14) + Self.pad("\(n)", 10, right: true) + "\n" }
        o += "\nConversion\n"
        o += "  lead → MQL   " + Self.pad(Self.percent(f.leadToMQL), 8, right: true)
            + "  (\(f.reachedMQL) of \(f.contacts) contacts reached MQL)\n"
        o += "  MQL → SQL    " + Self.pad(Self.percent(f.mqlToSQL), 8, right: true)
            + "  (\(f.reachedSQL) of \(f.reachedMQL) MQLs reached SQL)\n"
        o += "\nMedian time (event time)\n"
        o += "  lead → MQL   " + Self.duration(f.medianLeadToMQL) + "\n"
        o += "  MQL → SQL    " + Self.duration(f.medianMQLToSQL) + "\n"
        if !f.timeInStageBeforeMovingUp.isEmpty {
            o += "\nMedian time in stage before moving up (event time; leadscore_time_in_stage_seconds)\n"
            for u in f.timeInStageBeforeMovingUp {
                o += "  " + Self.pad(u.stage.name, 13) + Self.duration(u.median) + "  (\(u.moves) move\(u.moves == 1 ? "" : "s"))\n"
            }
        }
        o += "\nTop rules (by total awarded points)\n"
        o += "  " + Self.pad("rule", 24) + Self.pad("firings", 10, right: true) + Self.pad("points", 14, right: true) + "\n"
        for r in f.topRules {
            o += "  " + Self.pad(r.rule, 24) + Self.pad("\(r.firings)", 10, right: true)
                + Self.pad(JSONWriter.formatNumber(r.points), 14, right: true) + "\n"
        }
        return o
    }
}
