import LeadScoring

/// One generated Segment event: its bytes and the fields a producer needs (key, id for latency matching).
public struct GeneratedEvent: Sendable {
    public var contactId: String
    public var messageId: String
    public var json: [UInt8]
}

/// A realistic, reproducible marketing stream for the CONTRACTS example rules: Zipf-distributed contacts,
/// identify calls with traits, page views (pricing, docs, blog), downloads, e-mail opens, demo requests, sales
/// acceptance, opportunities and deals, unsubscribes, disqualifications — with event time advancing, some late
/// events and a few re-sent (duplicate) messages. The same seed gives byte-identical output.
public struct TrafficGenerator: Sendable {
    public let seed: UInt64
    public let contacts: Int
    /// Event time of the first event.
    public let start: EventTime
    /// Event time between consecutive events (on average).
    public let step: EventDuration
    /// Share of re-sent messages (duplicates).
    public let duplicateRate: Double
    /// Share of late events (event time up to `lateBy` in the past).
    public let lateRate: Double
    public let lateBy: EventDuration

    private var rng: SplitMix64
    private let zipf: ZipfSampler
    private var seen: [Bool]
    private var n = 0
    private var recent: [GeneratedEvent] = []

    public init(seed: UInt64, contacts: Int, start: EventTime = 1_767_225_600_000_000 /* 2026-01-01 */,
                step: EventDuration = 20 * TimeUnit.second, duplicateRate: Double = 0.005,
                lateRate: Double = 0.02, lateBy: EventDuration = 2 * TimeUnit.hour) {
        self.seed = seed; self.contacts = contacts; self.start = start; self.step = step
        self.duplicateRate = duplicateRate; self.lateRate = lateRate; self.lateBy = lateBy
        rng = SplitMix64(seed: seed)
        zipf = ZipfSampler(n: contacts)
        seen = [Bool](repeating: false, count: contacts)
    }

    /// Number of events generated so far.
    public var count: Int { n }

    public mutating func next() -> GeneratedEvent {
        defer { n += 1 }
        if !recent.isEmpty && rng.unit() < duplicateRate {
            return recent[Int(rng.next() % UInt64(recent.count))]
        }
        let rank = zipf.sample(rng.unit())
        let contact = "c\(rank)"
        var t = start + EventDuration(n) * step
        if rng.unit() < lateRate { t -= EventDuration(rng.next() % UInt64(lateBy)) }
        let messageId = "m\(seed)-\(n)"
        let json: [UInt8]
        if !seen[rank] {
            seen[rank] = true
            json = identify(contact: contact, rank: rank, messageId: messageId, t: t)
        } else {
            json = interaction(contact: contact, rank: rank, messageId: messageId, t: t)
        }
        let e = GeneratedEvent(contactId: contact, messageId: messageId, json: json)
        if recent.count < 256 { recent.append(e) } else { recent[n % 256] = e }
        return e
    }

    private mutating func identify(contact: String, rank: Int, messageId: String, t: EventTime) -> [UInt8] {
        let p = Persona(contact: rank, seed: seed)
        let anon = rng.unit() < 0.1
        let who = anon ? "\"anonymousId\":\"\(contact)\"" : "\"userId\":\"\(contact)\""
        return Array(("{\"type\":\"identify\",\"messageId\":\"\(messageId)\",\(who),\"timestamp\":\"\(ISO8601.formatMillis(t))\","
            + "\"traits\":{\"email\":\"\(p.email)\",\"title\":\"\(p.title)\",\"employees\":\(p.employees),\"industry\":\"\(p.industry)\"},"
            + "\"context\":{\"library\":{\"name\":\"analytics.js\",\"version\":\"4.1.0\"},\"ip\":\"10.0.\(rank % 250).\(rank % 200)\"}}").utf8)
    }

    private mutating func interaction(contact: String, rank: Int, messageId: String, t: EventTime) -> [UInt8] {
        let ts = ISO8601.formatMillis(t)
        let head = "{\"messageId\":\"\(messageId)\",\"userId\":\"\(contact)\",\"timestamp\":\"\(ts)\","
        // Engaged (frequent) contacts are the ones sales accepts, meets and wins.
        let engaged = rank < max(1, contacts / 20)
        let u = rng.unit()
        let body: String
        switch u {
        case ..<0.40:
            let paths = ["/pricing", "/pricing/enterprise", "/docs/getting-started", "/docs/api", "/blog/lead-scoring-101",
                         "/blog/mql-vs-sql", "/features", "/customers", "/", "/careers"]
            let path = paths[Int(rng.next() % UInt64(paths.count))]
            if rng.unit() < 0.3 {
                body = "\"type\":\"page\",\"properties\":{\"url\":\"https://www.example.com\(path)?utm_source=newsletter\",\"title\":\"Example\"}"
            } else {
                body = "\"type\":\"page\",\"properties\":{\"path\":\"\(path)\",\"referrer\":\"https://www.google.com/\"}"
            }
        case ..<0.60:
            body = "\"type\":\"track\",\"event\":\"Email Opened\",\"properties\":{\"campaign\":\"nurture-\(rng.next() % 5)\"}"
        case ..<0.72:
            body = "\"type\":\"track\",\"event\":\"Content Downloaded\",\"properties\":{\"asset\":\"whitepaper-\(rng.next() % 9)\"}"
        case ..<0.76:
            body = "\"type\":\"track\",\"event\":\"Demo Requested\",\"properties\":{\"source\":\"website\"}"
        case ..<0.80:
            let p = Persona(contact: rank, seed: seed)
            let titles = ["Director of Marketing", "VP Sales", "Marketing Manager", "Head of Ops"]
            body = "\"type\":\"identify\",\"traits\":{\"title\":\"\(titles[Int(rng.next() % 4)])\",\"employees\":\(p.employees + Int(rng.next() % 40))}"
        case ..<0.83:
            body = "\"type\":\"track\",\"event\":\"Webinar Attended\",\"properties\":{},\"context\":{\"traits\":{\"industry\":\"\(Persona(contact: rank, seed: seed).industry)\"}}"
        case ..<0.85:
            body = "\"type\":\"screen\",\"name\":\"Dashboard\",\"properties\":{\"path\":\"/pricing\"}"
        case ..<0.87:
            body = engaged ? "\"type\":\"track\",\"event\":\"Lead Accepted\",\"properties\":{\"owner\":\"rep-\(rng.next() % 7)\"}"
                           : "\"type\":\"track\",\"event\":\"Email Opened\",\"properties\":{}"
        case ..<0.88:
            body = engaged ? "\"type\":\"track\",\"event\":\"Opportunity Created\",\"properties\":{\"amount\":\(1000 * (1 + rng.next() % 50))}"
                           : "\"type\":\"page\",\"properties\":{\"path\":\"/blog/\"}"
        case ..<0.885:
            body = engaged ? "\"type\":\"track\",\"event\":\"Deal Won\",\"properties\":{}" : "\"type\":\"page\",\"properties\":{\"path\":\"/customers\"}"
        case ..<0.887:
            body = "\"type\":\"track\",\"event\":\"Review Posted\",\"properties\":{\"site\":\"g2\"}"
        case ..<0.90:
            body = "\"type\":\"track\",\"event\":\"Unsubscribed\",\"properties\":{}"
        case ..<0.905:
            body = "\"type\":\"track\",\"event\":\"Lead Disqualified\",\"properties\":{\"reason\":\"no budget\"}"
        case ..<0.91:
            body = "\"type\":\"track\",\"event\":\"Lead Requalified\",\"properties\":{}"
        case ..<0.915:
            body = "\"type\":\"group\",\"groupId\":\"g\(rank % 100)\",\"traits\":{\"name\":\"Acme\"}"
        case ..<0.92:
            body = "\"type\":\"alias\",\"previousId\":\"anon-\(rank)\""
        default:
            body = "\"type\":\"page\",\"properties\":{\"path\":\"/docs/guides/\(rng.next() % 20)\"}"
        }
        return Array((head + body + "}").utf8)
    }
}
