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
    var stage: Stage = .lead
    var firingsPruneAt: UInt32 = 8
    var traitBits = TraitBits()
    /// Event time of the current value per referenced trait (`none` = never set). Empty until the first trait.
    var traitTimes: [EventTime] = []
    /// Sorted by rule.
    var rules: [RuleSlot] = []
    /// Only for rules with `limit` or referenced by `count`; sorted by (rule, time); pruned.
    var firings: [Firing] = []
    var seen = SeenIds()

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

    /// Whether the id was seen with an event time ≥ `cutoff` (ids older than that are forgotten even if
    /// not pruned yet, so lazy pruning never changes results).
    @inline(__always) func hasSeen(_ hash: UInt64, cutoff: EventTime) -> Bool {
        seen.contains(hash, cutoff: cutoff)
    }

    mutating func pruneSeen(window: EventDuration) {
        seen.prune(cutoff: newest &- window)
    }

    mutating func remember(_ hash: UInt64, at time: EventTime) {
        seen.insert(hash, at: time)
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

    /// Index of the first firing after (rule, time) in the (rule, time) order of `firings`.
    @inline(__always) func firingIndex(rule: Int32, time: EventTime) -> Int {
        var lo = 0, hi = firings.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            let f = firings[mid]
            if f.rule < rule || (f.rule == rule && f.time <= time) { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Firings of `rule` with event time in (from, to].
    @inline(__always) func firingCount(rule: Int32, after from: EventTime, upTo to: EventTime) -> Int {
        if firings.isEmpty || to <= from { return 0 }
        return firingIndex(rule: rule, time: to) - firingIndex(rule: rule, time: from)
    }

    mutating func addFiring(rule: Int32, at time: EventTime) {
        if let last = firings.last, last.rule < rule || (last.rule == rule && last.time <= time) {
            firings.append(.init(time: time, rule: rule))
        } else {
            firings.insert(.init(time: time, rule: rule), at: firingIndex(rule: rule, time: time))
        }
    }

    /// Drops firings older than each rule's horizon; amortized (runs when the array doubled since last time).
    mutating func pruneFirings(horizons: [EventDuration]) {
        guard firings.count >= Int(firingsPruneAt) else { return }
        let T = newest
        firings.removeAll { $0.time <= T &- horizons[Int($0.rule)] }
        firingsPruneAt = UInt32(max(8, 2 * firings.count))
    }
}
