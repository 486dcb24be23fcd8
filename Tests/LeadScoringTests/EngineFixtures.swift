@testable import LeadScoring

/// The CONTRACTS §3 example rules, built in Swift (independent of the YAML loader).
enum Fixtures {
    static let day = TimeUnit.day
    static let hour = TimeUnit.hour
    /// 2026-01-01T00:00:00Z in µs.
    static let t0: EventTime = 1_767_225_600_000_000

    static func exampleRules(version: String = "v-test") -> Rules {
        let p = { (s: String) in try! Pattern(s) }
        let fit: [FitRule] = [
            FitRule(name: "decision-maker",
                    when: .trait("title", .matches(p("(?i)\\b(head|director|vp|chief|founder|ceo|cto|cmo)\\b"))), points: 15),
            FitRule(name: "company-50-plus", when: .trait("employees", .range(NumberRange(gte: 50))), points: 10),
            FitRule(name: "target-industry",
                    when: .trait("industry", .oneOf([.string("software"), .string("saas"), .string("technology")])), points: 10),
            FitRule(name: "generic-email", when: .trait("email", .matches(p("@(gmail|yahoo|hotmail|outlook)\\."))), points: -10),
            FitRule(name: "student",
                    when: .any([.trait("title", .matches(p("(?i)student|étudiant"))),
                                .trait("industry", .oneOf([.string("education")]))]), points: -30),
        ]
        let eng: [EngagementRule] = [
            EngagementRule(name: "content-download", when: .event("Content Downloaded"), points: 10, maxPoints: 30,
                           limit: nil, highIntent: false),
            EngagementRule(name: "pricing-page", when: .page(p("^/pricing")), points: 5, maxPoints: nil,
                           limit: RateLimit(count: 3, per: day), highIntent: true),
            EngagementRule(name: "demo-request", when: .event("Demo Requested"), points: 30, maxPoints: nil,
                           limit: nil, highIntent: true),
            EngagementRule(name: "email-open", when: .event("Email Opened"), points: 2, maxPoints: nil,
                           limit: RateLimit(count: 5, per: day), highIntent: false),
            EngagementRule(name: "unsubscribe", when: .event("Unsubscribed"), points: -20, maxPoints: nil,
                           limit: nil, highIntent: false),
        ]
        let stages = StageRules(
            enter: [
                .mql: .score(.total, NumberRange(gte: 50)),
                .sal: .event("Lead Accepted"),
                .sql: .all([.score(.total, NumberRange(gte: 80)),
                            .count(rule: 2, range: NumberRange(gte: 1), within: 30 * day)]),
                .opportunity: .event("Opportunity Created"),
                .customer: .event("Deal Won"),
                .evangelist: .event("Review Posted"),
            ],
            disqualify: .init(when: .event("Lead Disqualified"), until: .event("Lead Requalified")),
            recycle: .init(below: 25, from: [.mql]))
        return Rules(version: version, halfLife: 30 * day, scoreMin: -100, scoreMax: 200, dedupeWindow: 24 * hour,
                     fit: fit, engagement: eng, stages: stages,
                     grades: Grades(fitA: 30, fitB: 15, engagement1: 60, engagement2: 30),
                     alerts: AlertRules(onStages: [.sql], onIntent: .init(minStage: .mql, suppressFor: 24 * hour)))
    }

    /// A small event builder; message ids are unique unless given.
    struct Stream {
        var n = 0
        mutating func id() -> String { n += 1; return "m\(n)" }
        mutating func track(_ contact: String, _ name: String, at t: EventTime, id: String? = nil,
                            traits: [(String, TraitValue)] = []) -> SegmentEvent {
            SegmentEvent(kind: .track, messageId: id ?? self.id(), contactId: contact, timestamp: t, eventName: name,
                         traits: traits.map { (name: $0.0, value: $0.1) })
        }
        mutating func page(_ contact: String, _ path: String?, at t: EventTime, id: String? = nil) -> SegmentEvent {
            SegmentEvent(kind: .page, messageId: id ?? self.id(), contactId: contact, timestamp: t, pagePath: path)
        }
        mutating func screen(_ contact: String, _ path: String?, at t: EventTime) -> SegmentEvent {
            SegmentEvent(kind: .screen, messageId: id(), contactId: contact, timestamp: t, pagePath: path)
        }
        mutating func identify(_ contact: String, at t: EventTime, _ traits: [(String, TraitValue)], id: String? = nil) -> SegmentEvent {
            SegmentEvent(kind: .identify, messageId: id ?? self.id(), contactId: contact, timestamp: t,
                         traits: traits.map { (name: $0.0, value: $0.1) })
        }
    }
}

extension PartitionEngine {
    /// Applies and returns this event's records (tests).
    @discardableResult
    func feed(_ e: SegmentEvent, topic: String? = nil) -> [OutputRecord] {
        var out: [OutputRecord] = []
        _ = apply(e, trigger: Trigger(messageId: e.messageId, topic: topic), into: &out)
        return out
    }

    func view(_ id: String) -> ContactView { contact(id)! }
}

extension OutputRecord {
    var ids: String { id }
}

extension Fixtures {
    /// Minimal rules for focused tests (no clamp unless given, 30 d half-life, 24 h dedupe).
    static func minimal(fit: [FitRule] = [], engagement: [EngagementRule] = [], enter: [Stage: Condition] = [:],
                        disqualify: StageRules.Disqualify? = nil, recycle: StageRules.Recycle? = nil,
                        onStages: Set<Stage> = [], onIntent: AlertRules.IntentAlert? = nil,
                        halfLife: EventDuration = 30 * TimeUnit.day, scoreMin: Double? = nil, scoreMax: Double? = nil,
                        grades: Grades = Grades(fitA: 30, fitB: 15, engagement1: 60, engagement2: 30)) -> Rules {
        Rules(version: "v-min", halfLife: halfLife, scoreMin: scoreMin, scoreMax: scoreMax, dedupeWindow: 24 * hour,
              fit: fit, engagement: engagement, stages: StageRules(enter: enter, disqualify: disqualify, recycle: recycle),
              grades: grades, alerts: AlertRules(onStages: onStages, onIntent: onIntent))
    }

    static func rule(_ name: String, _ when: Condition, _ points: Double, max: Double? = nil,
                     limit: RateLimit? = nil, intent: Bool = false) -> EngagementRule {
        EngagementRule(name: name, when: when, points: points, maxPoints: max, limit: limit, highIntent: intent)
    }
}

extension Fixtures {
    /// Example rules: content ×3 (30) + demo (30) = 60 at `t` takes a lead to mql (with an intent alert).
    static func toMQL(_ e: PartitionEngine, _ s: inout Stream, _ c: String, at t: EventTime) -> [OutputRecord] {
        var out: [OutputRecord] = []
        for _ in 0..<3 { out += e.feed(s.track(c, "Content Downloaded", at: t)) }
        out += e.feed(s.track(c, "Demo Requested", at: t))
        return out
    }
}
