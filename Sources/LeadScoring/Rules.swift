/// A validated, immutable rules file (CONTRACTS §3). Built by `RulesLoader`; read by the engine.
///
/// Every field is already checked, so the engine never re-validates on the hot path.
public struct Rules: Sendable {
    /// Stable hash of the normalized rules; carried by every output record as `rules_version`.
    public var version: String
    /// Engagement half-life in event time.
    public var halfLife: EventDuration
    /// Optional clamp of total = fit + engagement.
    public var scoreMin: Double?
    public var scoreMax: Double?
    /// Message ids are kept while their event time is within this of the contact's newest event time.
    public var dedupeWindow: EventDuration
    /// In file order.
    public var fit: [FitRule]
    /// In file order (the first `intent: high` rule in file order names an intent alert).
    public var engagement: [EngagementRule]
    public var stages: StageRules
    public var grades: Grades
    public var alerts: AlertRules

    public init(version: String, halfLife: EventDuration, scoreMin: Double?, scoreMax: Double?,
                dedupeWindow: EventDuration, fit: [FitRule], engagement: [EngagementRule],
                stages: StageRules, grades: Grades, alerts: AlertRules) {
        self.version = version; self.halfLife = halfLife; self.scoreMin = scoreMin; self.scoreMax = scoreMax
        self.dedupeWindow = dedupeWindow; self.fit = fit; self.engagement = engagement
        self.stages = stages; self.grades = grades; self.alerts = alerts
    }
}

/// Points for who the contact is; evaluated on current traits, never decays.
public struct FitRule: Sendable {
    public var name: String
    public var when: Condition
    public var points: Double
    public init(name: String, when: Condition, points: Double) {
        self.name = name; self.when = when; self.points = points
    }
}

/// Points for what the contact does; each firing decays with the half-life from its event time.
public struct EngagementRule: Sendable {
    public var name: String
    public var when: Condition
    public var points: Double
    /// Lifetime cap on the absolute sum of undecayed points this rule awards one contact.
    public var maxPoints: Double?
    /// At most `count` firings per rolling `per` of event time.
    public var limit: RateLimit?
    /// `intent: high`: a firing can raise an intent alert.
    public var highIntent: Bool
    public init(name: String, when: Condition, points: Double, maxPoints: Double?, limit: RateLimit?, highIntent: Bool) {
        self.name = name; self.when = when; self.points = points; self.maxPoints = maxPoints
        self.limit = limit; self.highIntent = highIntent
    }
}

public struct RateLimit: Sendable, Hashable {
    public var count: Int
    public var per: EventDuration
    public init(count: Int, per: EventDuration) { self.count = count; self.per = per }
}

/// A numeric bound pair; both ends inclusive, compared with the 1e-9 tolerance of CONTRACTS §3.
public struct NumberRange: Sendable, Hashable {
    public var gte: Double?
    public var lte: Double?
    public init(gte: Double? = nil, lte: Double? = nil) { self.gte = gte; self.lte = lte }
}

/// Which score a `score`/`fit`/`engagement` condition looks at.
public enum ScoreKind: Sendable, Hashable { case total, fit, engagement }

/// A test on one trait's current value.
public enum TraitTest: Sendable {
    case eq(TraitValue)
    case oneOf([TraitValue])
    case matches(Pattern)
    case range(NumberRange)
    case exists
}

/// A condition of a rule or stage (CONTRACTS §3 "Conditions").
public indirect enum Condition: Sendable {
    case trait(String, TraitTest)
    /// Name of a `track` event.
    case event(String)
    /// Regex searched in the path of a `page` event.
    case page(Pattern)
    case score(ScoreKind, NumberRange)
    /// Firings of the engagement rule at `rule` (index into `Rules.engagement`) with event time in (T − within, T].
    case count(rule: Int, range: NumberRange, within: EventDuration)
    case all([Condition])
    case any([Condition])
    case not(Condition)
}

/// Stage conditions. `nil` means the stage has no entry condition in this rules file.
public struct StageRules: Sendable {
    /// Entry conditions for mql … evangelist, keyed by stage.
    public var enter: [Stage: Condition]
    public var disqualify: Disqualify?
    public var recycle: Recycle?
    public init(enter: [Stage: Condition], disqualify: Disqualify?, recycle: Recycle?) {
        self.enter = enter; self.disqualify = disqualify; self.recycle = recycle
    }

    public struct Disqualify: Sendable {
        public var when: Condition
        public var until: Condition?
        public init(when: Condition, until: Condition?) { self.when = when; self.until = until }
    }

    public struct Recycle: Sendable {
        public var below: Double
        public var from: Set<Stage>
        public init(below: Double, from: Set<Stage>) { self.below = below; self.from = from }
    }
}

/// Fit letter × engagement digit, e.g. "A1".
public struct Grades: Sendable {
    public var fitA: Double
    public var fitB: Double
    public var engagement1: Double
    public var engagement2: Double
    public init(fitA: Double, fitB: Double, engagement1: Double, engagement2: Double) {
        self.fitA = fitA; self.fitB = fitB; self.engagement1 = engagement1; self.engagement2 = engagement2
    }
}

public struct AlertRules: Sendable {
    /// Entering any of these stages emits a `reason: "stage"` alert.
    public var onStages: Set<Stage>
    public var onIntent: IntentAlert?
    public init(onStages: Set<Stage>, onIntent: IntentAlert?) { self.onStages = onStages; self.onIntent = onIntent }

    public struct IntentAlert: Sendable {
        public var minStage: Stage
        public var suppressFor: EventDuration
        public init(minStage: Stage, suppressFor: EventDuration) { self.minStage = minStage; self.suppressFor = suppressFor }
    }
}
