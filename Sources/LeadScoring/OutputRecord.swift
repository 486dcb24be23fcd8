/// Where the event that caused a record came from; it names the record (`id`) and is echoed in `trigger`.
///
/// Topic, partition and offset are nil when replaying from a file (CONTRACTS §4: the fields are then omitted).
public struct Trigger: Sendable, Hashable {
    public var messageId: String
    public var topic: String?
    public var partition: Int32?
    public var offset: Int64?
    public init(messageId: String, topic: String? = nil, partition: Int32? = nil, offset: Int64? = nil) {
        self.messageId = messageId; self.topic = topic; self.partition = partition; self.offset = offset
    }
}

/// One record the daemon publishes: a stage change or a hot-lead alert, already serialized.
///
/// The engine serializes once so the daemon, `replay` and tests all see the very same bytes.
public struct OutputRecord: Sendable, Hashable {
    public enum Kind: Sendable, Hashable { case stageChange, alert }
    public var kind: Kind
    /// The Kafka key.
    public var contactId: String
    /// CONTRACTS §4 id, unique per (contact, transition or alert kind, trigger message).
    public var id: String
    /// The exact record bytes (CONTRACTS §4 key order).
    public var json: [UInt8]
    /// Stage changes: the transition (for per-transition metrics without parsing `json`).
    public var from: Stage = .lead
    public var to: Stage = .lead
    /// Stage changes: event time (µs) the contact spent in `from`, from entering it (creation for a contact's
    /// first `lead`) to this record's `at` (for recycle (b), the crossing moment); never negative. nil when
    /// unknown: the contact was restored from a checkpoint written before entry times were kept. Feeds
    /// `leadscore_time_in_stage_seconds`; deliberately not in `json` (the record bytes are CONTRACTS §4's).
    public var timeInPreviousStage: EventDuration?
    /// Alerts: an intent signal (true) or entering SQL (false), and the priority 1–3 (P1 = best fit).
    public var intent = false
    public var priority: UInt8 = 0

    public init(kind: Kind, contactId: String, id: String, json: [UInt8]) {
        self.kind = kind; self.contactId = contactId; self.id = id; self.json = json
    }

    /// The record as text (tests, logs).
    public var text: String { String(decoding: json, as: UTF8.self) }
}

/// What `PartitionEngine.apply` did with an event (for counters).
public enum ApplyResult: Sendable, Hashable {
    /// The event was applied to its contact (records may or may not have been produced).
    case scored
    /// The contact had seen this messageId within the dedupe window: dropped, nothing changed.
    case duplicate
    /// `group` / `alias`: valid but ignored (no contact, no state, no watermark effect).
    case ignored
}

/// Knobs of the engine that are not part of the rules.
public struct EngineOptions: Sendable {
    /// Events with an event time before this publish no alerts and do not start alert suppression
    /// (used to replay history on first start without paging sales for old behaviour).
    public var quietUntil: EventTime?
    public init(quietUntil: EventTime? = nil) { self.quietUntil = quietUntil }
}

/// A contact's score as seen from outside (HTTP `/contacts/{id}`), decayed to a given time.
public struct ContactView: Sendable {
    public var contactId: String
    public var stage: Stage
    public var total: Double
    public var fit: Double
    public var engagement: Double
    public var grade: String
    /// Up to 3 rules by absolute current contribution (rounded to 6 decimals), then name.
    public var topRules: [(rule: String, points: Double)]
    /// The time the score is decayed to (the partition watermark).
    public var asOf: EventTime
    /// The contact's newest event time.
    public var lastEventTime: EventTime

    /// The view as a JSON object (same number/time formats as records).
    public var json: [UInt8] {
        var w = JSONWriter(capacity: 256)
        w.raw("{\"contact_id\":"); w.string(contactId)
        w.raw(",\"stage\":"); w.string(stage.name)
        w.raw(",\"score\":{\"total\":"); w.number(total)
        w.raw(",\"fit\":"); w.number(fit)
        w.raw(",\"engagement\":"); w.number(engagement)
        w.raw("},\"grade\":"); w.string(grade)
        w.raw(",\"top_rules\":[")
        for (i, r) in topRules.enumerated() {
            if i > 0 { w.byte(0x2C) }
            w.raw("{\"rule\":"); w.string(r.rule); w.raw(",\"points\":"); w.number(r.points); w.byte(0x7D)
        }
        w.raw("],\"as_of\":"); w.time(asOf)
        w.raw(",\"last_event_at\":"); w.time(lastEventTime)
        w.byte(0x7D)
        return w.bytes
    }
}
