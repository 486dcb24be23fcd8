/// Everything the engine remembers about one contact, kept compact (target ≤ 256 bytes on average).
///
/// - Traits are not stored as values: per referenced trait only the event time of the current value and,
///   in `traitBits`, which atomic trait tests of the rules that value satisfies (exact for every rule).
/// - Engagement is `Σ rules[i].contrib` as of `engAsOf` (all contributions decay at the same rate, so one
///   as-of time serves all of them); per-rule slots exist only for rules that fired.
/// - Message ids are 64-bit FNV-1a hashes with their event time, pruned to the dedupe window.
struct ContactState {
    struct RuleSlot: Equatable {
        var rule: Int32
        /// Decayed contribution as of `engAsOf`.
        var contrib: Double
        /// Lifetime absolute sum of undecayed awarded points (for `max_points`).
        var awardedAbs: Double
    }

    struct Firing: Equatable {
        var time: EventTime
        var rule: Int32
    }

    struct SeenId: Equatable {
        var hash: UInt64
        var time: EventTime
    }

    static let none: EventTime = .min
    static let never: EventTime = .max

    var id: String
    /// T: the contact's newest event time.
    var newest: EventTime
    var engAsOf: EventTime
    var fit: Double = 0
    /// Which of the first 64 fit rules hold (for `top_rules`).
    var fitMask: UInt64 = 0
    var lastAlert: EventTime = none
    var lastPointsChange: EventTime
    /// Current recycle (b) timer key (crossing moment, µs floor) or `never`.
    var recycleAt: EventTime = never
    /// Lowest event time in `seen` (cheap check whether pruning is due).
    var seenMin: EventTime = never
    var stage: Stage = .lead
    var traitBits = TraitBits()
    /// Event time of the current value per referenced trait (`none` = never set). Empty until the first trait.
    var traitTimes: [EventTime] = []
    /// Sorted by rule.
    var rules: [RuleSlot] = []
    /// Only for rules with `limit` or referenced by `count`; pruned.
    var firings: [Firing] = []
    var seen: [SeenId] = []

    init(id: String, time: EventTime) {
        self.id = id
        self.newest = time
        self.engAsOf = time
        self.lastPointsChange = time
    }

    /// Engagement as of `engAsOf`, summed in rule order (deterministic).
    @inline(__always) var engagementAsOf: Double {
        var e = 0.0
        for r in rules { e += r.contrib }
        return e
    }

    @inline(__always) func hasSeen(_ hash: UInt64) -> Bool {
        for s in seen where s.hash == hash { return true }
        return false
    }

    /// Keeps ids whose event time is within `window` of the newest event time.
    mutating func pruneSeen(window: EventDuration) {
        let cutoff = newest &- window
        guard seenMin < cutoff else { return }
        seen.removeAll { $0.time < cutoff }
        var m = ContactState.never
        for s in seen where s.time < m { m = s.time }
        seenMin = m
    }

    mutating func remember(_ hash: UInt64, at time: EventTime) {
        seen.append(SeenId(hash: hash, time: time))
        if time < seenMin { seenMin = time }
    }

    /// Index of the rule's slot, or where to insert it.
    @inline(__always) func slotIndex(_ rule: Int32) -> (Int, found: Bool) {
        var i = 0
        while i < rules.count {
            let r = rules[i].rule
            if r == rule { return (i, true) }
            if r > rule { return (i, false) }
            i += 1
        }
        return (i, false)
    }

    /// Firings of `rule` with event time in (from, to].
    @inline(__always) func firingCount(rule: Int32, after from: EventTime, upTo to: EventTime) -> Int {
        var n = 0
        for f in firings where f.rule == rule && f.time > from && f.time <= to { n += 1 }
        return n
    }
}
