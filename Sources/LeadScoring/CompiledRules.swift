/// The rules turned into index-based form for the hot path: event names, page patterns and trait
/// tests become small integers, so evaluating a condition never hashes or compares a string.
///
/// Trait tests are "atomic": each (trait, test) pair gets a bit. A contact stores, per referenced trait,
/// only the event time of its current value and which test bits that value satisfies — enough to
/// evaluate every rule exactly, without keeping the trait strings themselves (memory per contact).
///
/// Its stored properties are `@exclusivity(unchecked)`: they are set in `init` and only read afterwards, and
/// the dynamic check of each read of a class property (a thread-local lookup) was ~5 % of scoring.
final class CompiledRules: @unchecked Sendable {
    indirect enum Cond {
        case traitBit(Int)
        case event(Int)
        case page(Int)
        case score(ScoreKind, NumberRange)
        case count(rule: Int, range: NumberRange, within: EventDuration)
        case all([Cond])
        case any([Cond])
        case not(Cond)
    }

    struct TraitTestEntry {
        var trait: Int
        var test: TraitTest
    }

    let rules: Rules
    /// Referenced trait names → index.
    @exclusivity(unchecked) var traitIndex: [String: Int] = [:]
    @exclusivity(unchecked) var traitNames: [String] = []
    /// Atomic trait tests, bit i ↔ traitTests[i].
    @exclusivity(unchecked) var traitTests: [TraitTestEntry] = []
    /// For each trait, the bits of its tests (to clear on update).
    @exclusivity(unchecked) var traitMask: [TraitBits] = []
    /// For each trait, its atomic test bits.
    @exclusivity(unchecked) var testsOfTrait: [[Int]] = []
    /// For each trait, whether its values' test bits are worth remembering per value: false when every test
    /// is cheaper than a cache lookup (comparisons, short lists, literal-set patterns). E-mail addresses
    /// never repeat, so caching them would cost a hash, a miss and an insert per new value for nothing.
    @exclusivity(unchecked) var cacheTraitValues: [Bool] = []
    /// The tests of the other traits on a value's bytes (nil when some test does not fit `TraitMatcher`).
    @exclusivity(unchecked) private(set) var matcher: TraitMatcher?
    /// Track event names used by conditions → index.
    @exclusivity(unchecked) var eventIndex: [String: Int] = [:]
    @exclusivity(unchecked) var pagePatterns: [Pattern] = []
    /// `eventIndex` and `traitIndex` keyed by bytes, for the hot path (looked up with an event's bytes).
    @exclusivity(unchecked) var eventTable = ByteKeyTable<Int>()
    @exclusivity(unchecked) var traitTable = ByteKeyTable<Int>()

    /// Root nodes in `program`.
    @exclusivity(unchecked) var fit: [Int32] = []
    @exclusivity(unchecked) var engagement: [Int32] = []
    /// Per stage rawValue in funnel (lead…evangelist): entry condition root, or −1.
    @exclusivity(unchecked) var stageEnter: [Int32] = Array(repeating: -1, count: Stage.funnel.count)
    @exclusivity(unchecked) var disqualifyWhen: Int32 = -1
    @exclusivity(unchecked) var disqualifyUntil: Int32 = -1
    @exclusivity(unchecked) var program = ConditionProgram()
    /// Frozen copies of `program` for the hot path (owned; freed in deinit).
    @exclusivity(unchecked) private(set) var nodes: UnsafeMutableBufferPointer<ConditionProgram.Node> = .init(start: nil, count: 0)
    @exclusivity(unchecked) private(set) var children: UnsafeMutableBufferPointer<Int32> = .init(start: nil, count: 0)
    /// Per node, what an event must offer for it to hold (`evalRoot`).
    @exclusivity(unchecked) private(set) var gates: UnsafeMutableBufferPointer<ConditionProgram.Gate> = .init(start: nil, count: 0)

    /// Engagement rule parameters, flat for the hot path.
    struct RuleParams {
        var points: Double
        /// NaN when the rule has no cap.
        var maxPoints: Double
        var limitCount: Int
        /// 0 when the rule has no limit.
        var limitPer: EventDuration
        var highIntent: Bool
        var keepTimes: Bool
        var horizon: EventDuration
    }
    @exclusivity(unchecked) private(set) var params: UnsafeMutableBufferPointer<RuleParams> = .init(start: nil, count: 0)
    /// Hot-path copies (unsafe buffers: no reference counting in the per-event loops).
    @exclusivity(unchecked) private(set) var engagementRoots: UnsafeMutableBufferPointer<Int32> = .init(start: nil, count: 0)
    /// The engagement rules an event can fire, from their gates (set in init).
    @exclusivity(unchecked) private(set) var engagementCandidates: RuleCandidates!
    @exclusivity(unchecked) private(set) var fitRoots: UnsafeMutableBufferPointer<Int32> = .init(start: nil, count: 0)
    @exclusivity(unchecked) private(set) var fitPointsBuf: UnsafeMutableBufferPointer<Double> = .init(start: nil, count: 0)
    @exclusivity(unchecked) private(set) var stageRoots: UnsafeMutableBufferPointer<Int32> = .init(start: nil, count: 0)
    /// Low 64 bits of each trait's test mask.
    @exclusivity(unchecked) private(set) var traitMaskLow: UnsafeMutableBufferPointer<UInt64> = .init(start: nil, count: 0)
    @exclusivity(unchecked) private(set) var traitCount = 0
    @exclusivity(unchecked) private(set) var traitTestCount = 0

    private static func frozen<T>(_ a: [T]) -> UnsafeMutableBufferPointer<T> {
        let b = UnsafeMutableBufferPointer<T>.allocate(capacity: max(1, a.count))
        _ = b.initialize(from: a)
        return UnsafeMutableBufferPointer(start: b.baseAddress, count: a.count)
    }
    /// Engagement rules whose firing times must be kept (limit or referenced by `count`), with the window.
    @exclusivity(unchecked) var keepTimes: [Bool] = []
    /// Largest window over limits and `count … within`: firings older than T minus this (plus the dedupe
    /// window, to serve late events) are pruned.
    @exclusivity(unchecked) var timesHorizon: EventDuration = 0
    /// Per engagement rule: firings older than T minus this are pruned (limit `per` plus the dedupe window
    /// for late events, or the largest `count … within` on the rule).
    @exclusivity(unchecked) var firingHorizon: [EventDuration] = []
    /// Fit rules use something other than traits (score/count/event): recompute fit on every event.
    @exclusivity(unchecked) var fitNeedsEveryEvent = false

    /// Checkpoint support: per trait-test bit its stable signature, and back; engagement rule name → index.
    @exclusivity(unchecked) private(set) var testSignatures: [String] = []
    @exclusivity(unchecked) private(set) var bitsBySignature: [String: [Int]] = [:]
    @exclusivity(unchecked) private(set) var engagementIndex: [String: Int32] = [:]
    /// The same names as UTF-8, for restoring without making a `String` per name (`BinaryReader.take`).
    @exclusivity(unchecked) private(set) var versionBytes: [UInt8] = []
    @exclusivity(unchecked) private(set) var traitNameBytes: [[UInt8]] = []
    @exclusivity(unchecked) private(set) var signatureBytes: [[UInt8]] = []
    /// Per test bit: every bit with the same signature (what `bitsBySignature` gives for its signature).
    @exclusivity(unchecked) private(set) var sameSignatureBits: [[Int]] = []
    @exclusivity(unchecked) private(set) var engagementNameBytes: [[UInt8]] = []
    /// The same names as hashes (contact format 3).
    @exclusivity(unchecked) private(set) var nameHashes = CheckpointNameHashes(version: "", traitNames: [], signatures: [], ruleNames: [])

    /// Fit rule names in file order, then engagement rule names (the rules `top_rules` can name), and each
    /// one's place in the names' `String` order (equal names, equal rank).
    @exclusivity(unchecked) private(set) var topRuleNames: [String] = []
    @exclusivity(unchecked) private(set) var topRuleRank: [Int32] = []

    /// Fit points in file order.
    @exclusivity(unchecked) var fitPoints: [Double] = []
    /// `recycle.below` (NaN without recycle) and its `from` stages as a bit mask by stage raw value.
    @exclusivity(unchecked) var recycleBelow: Double = .nan
    @exclusivity(unchecked) var recycleFromMask: UInt32 = 0
    @exclusivity(unchecked) var alertStageMask: UInt32 = 0

    @inline(__always) func isRecycleFrom(_ s: Stage) -> Bool {
        s.rawValue < 32 && recycleFromMask & (1 << UInt32(s.rawValue)) != 0
    }
    @inline(__always) func isAlertStage(_ s: Stage) -> Bool {
        s.rawValue < 32 && alertStageMask & (1 << UInt32(s.rawValue)) != 0
    }

    let halfLife: Double
    let ln2OverH: Double

    /// Limits of the compact contact layout (8-bit counts in the contact's blob header).
    static let maxEngagementRules = 255
    static let maxReferencedTraits = 255

    init(_ rules: Rules) {
        precondition(rules.engagement.count <= Self.maxEngagementRules,
                     "the engine supports at most \(Self.maxEngagementRules) engagement rules")
        self.rules = rules
        self.halfLife = Double(rules.halfLife)
        self.ln2OverH = 0.6931471805599453 / Double(rules.halfLife)
        keepTimes = Array(repeating: false, count: rules.engagement.count)
        countWithin = Array(repeating: 0, count: rules.engagement.count)
        let fitConds = rules.fit.map { compile($0.when) }
        let engConds = rules.engagement.map { compile($0.when) }
        fit = fitConds.map { program.add($0) }
        engagement = engConds.map { program.add($0) }
        for (stage, c) in rules.stages.enter where stage != .disqualified && stage != .lead {
            stageEnter[stage.rawValue] = program.add(compile(c))
        }
        if let d = rules.stages.disqualify {
            disqualifyWhen = program.add(compile(d.when))
            if let u = d.until { disqualifyUntil = program.add(compile(u)) }
        }
        var horizon: EventDuration = 0
        for (i, r) in rules.engagement.enumerated() {
            if let l = r.limit { keepTimes[i] = true; horizon = max(horizon, l.per) }
        }
        // count windows were collected during compile
        horizon = max(horizon, countHorizon)
        timesHorizon = horizon
        firingHorizon = rules.engagement.enumerated().map { i, r in
            max(r.limit.map { $0.per + rules.dedupeWindow } ?? 0, countWithin[i])
        }
        for c in rules.fit where !Self.traitsOnly(c.when) { fitNeedsEveryEvent = true }
        traitMask = Array(repeating: TraitBits(), count: traitNames.count)
        for (k, v) in eventIndex { eventTable.set(k, v) }
        for (k, v) in traitIndex { traitTable.set(k, v) }
        fitPoints = rules.fit.map(\.points)
        topRuleNames = rules.fit.map(\.name) + rules.engagement.map(\.name)
        topRuleRank = Array(repeating: 0, count: topRuleNames.count)
        var rank: Int32 = 0
        var previous: String?
        for i in topRuleNames.indices.sorted(by: { topRuleNames[$0] < topRuleNames[$1] }) {
            if let p = previous, p < topRuleNames[i] { rank += 1 }
            topRuleRank[i] = rank
            previous = topRuleNames[i]
        }
        if let rc = rules.stages.recycle {
            recycleBelow = rc.below
            for st in rc.from where st.rawValue < 32 { recycleFromMask |= 1 << UInt32(st.rawValue) }
        }
        for st in rules.alerts.onStages where st.rawValue < 32 { alertStageMask |= 1 << UInt32(st.rawValue) }
        nodes = .allocate(capacity: max(1, program.nodes.count))
        _ = nodes.initialize(from: program.nodes)
        gates = .allocate(capacity: max(1, program.nodes.count))
        _ = gates.initialize(from: (0..<program.nodes.count).map { program.gate(Int32($0)) })
        children = .allocate(capacity: max(1, program.children.count))
        _ = children.initialize(from: program.children)
        params = .allocate(capacity: max(1, rules.engagement.count))
        for (i, r) in rules.engagement.enumerated() {
            params[i] = RuleParams(points: r.points, maxPoints: r.maxPoints ?? .nan, limitCount: r.limit?.count ?? 0,
                                   limitPer: r.limit?.per ?? 0, highIntent: r.highIntent, keepTimes: keepTimes[i],
                                   horizon: firingHorizon[i])
        }
        testsOfTrait = Array(repeating: [], count: traitNames.count)
        cacheTraitValues = Array(repeating: false, count: traitNames.count)
        for t in traitTests where !Self.isCheap(t.test) { cacheTraitValues[t.trait] = true }
        matcher = TraitMatcher(traits: traitNames.count, uncached: cacheTraitValues.map { !$0 }, tests: traitTests)
        engagementRoots = Self.frozen(engagement)
        engagementCandidates = RuleCandidates(roots: engagementRoots, gates: gates)
        fitRoots = Self.frozen(fit)
        fitPointsBuf = Self.frozen(fitPoints)
        stageRoots = Self.frozen(stageEnter)
        for (bit, t) in traitTests.enumerated() { traitMask[t.trait].set(bit); testsOfTrait[t.trait].append(bit) }
        testSignatures = (0..<traitTests.count).map { signature(ofTest: $0) }
        for (b, sig) in testSignatures.enumerated() { bitsBySignature[sig, default: []].append(b) }
        for (i, r) in rules.engagement.enumerated() where engagementIndex[r.name] == nil { engagementIndex[r.name] = Int32(i) }
        precondition(traitNames.count <= Self.maxReferencedTraits,
                     "the engine supports at most \(Self.maxReferencedTraits) distinct traits in conditions")
        traitMaskLow = Self.frozen(traitMask.map(\.low))
        versionBytes = Array(rules.version.utf8)
        traitNameBytes = traitNames.map { Array($0.utf8) }
        signatureBytes = testSignatures.map { Array($0.utf8) }
        sameSignatureBits = testSignatures.map { bitsBySignature[$0] ?? [] }
        engagementNameBytes = rules.engagement.map { Array($0.name.utf8) }
        nameHashes = CheckpointNameHashes(version: rules.version, traitNames: traitNames, signatures: testSignatures,
                                          ruleNames: rules.engagement.map(\.name))
        traitCount = traitNames.count
        traitTestCount = traitTests.count
    }

    deinit {
        nodes.deallocate()
        children.deallocate()
        gates.deallocate()
        params.deallocate()
        engagementRoots.deallocate(); fitRoots.deallocate(); fitPointsBuf.deallocate()
        engagementCandidates.deallocate()
        stageRoots.deallocate(); traitMaskLow.deallocate()
    }

    @exclusivity(unchecked) private var countHorizon: EventDuration = 0
    @exclusivity(unchecked) private var countWithin: [EventDuration] = []

    private static func traitsOnly(_ c: Condition) -> Bool {
        switch c {
        case .trait: return true
        case .all(let cs), .any(let cs): return cs.allSatisfy(traitsOnly)
        case .not(let c): return traitsOnly(c)
        default: return false
        }
    }

    private func compile(_ c: Condition) -> Cond {
        switch c {
        case .trait(let name, let test):
            let ti: Int
            if let i = traitIndex[name] { ti = i } else {
                ti = traitNames.count; traitNames.append(name); traitIndex[name] = ti
            }
            traitTests.append(TraitTestEntry(trait: ti, test: test))
            return .traitBit(traitTests.count - 1)
        case .event(let name):
            let ei: Int
            if let i = eventIndex[name] { ei = i } else { ei = eventIndex.count; eventIndex[name] = ei }
            return .event(ei)
        case .page(let p):
            if let i = pagePatterns.firstIndex(where: { $0.source == p.source }) { return .page(i) }
            pagePatterns.append(p)
            return .page(pagePatterns.count - 1)
        case .score(let k, let r): return .score(k, r)
        case .count(let rule, let range, let within):
            if rule >= 0 && rule < keepTimes.count { keepTimes[rule] = true; countWithin[rule] = max(countWithin[rule], within) }
            countHorizon = max(countHorizon, within)
            return .count(rule: rule, range: range, within: within)
        case .all(let cs): return .all(cs.map { compile($0) })
        case .any(let cs): return .any(cs.map { compile($0) })
        case .not(let c): return .not(compile(c))
        }
    }

    /// A test that costs less than hashing the value and looking it up.
    static func isCheap(_ test: TraitTest) -> Bool {
        switch test {
        case .exists, .eq, .range: return true
        case .oneOf(let xs): return xs.count <= 8
        case .matches(let p): return p.isLiteralSet
        }
    }

    /// Whether a trait value satisfies an atomic test (CONTRACTS §3: strings exact and case-sensitive,
    /// numbers as numbers, a string "120" is not a number; a null value counts as absent).
    static func holds(_ test: TraitTest, _ v: TraitValue) -> Bool {
        if case .null = v { return false }
        switch test {
        case .exists: return true
        case .eq(let x): return equal(v, x)
        case .oneOf(let xs): return xs.contains { equal(v, $0) }
        case .matches(let p):
            if case .string(let s) = v { return p.search(s) }
            return false
        case .range(let r):
            if case .number(let d) = v { return inRange(d, r) }
            return false
        }
    }

    private static func equal(_ a: TraitValue, _ b: TraitValue) -> Bool {
        switch (a, b) {
        case (.string(let x), .string(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.bool(let x), .bool(let y)): return x == y
        default: return false
        }
    }

    /// Threshold comparison with the 1e-9 tolerance of CONTRACTS §3.
    @inline(__always) static func inRange(_ x: Double, _ r: NumberRange) -> Bool {
        if let g = r.gte, !(x >= g - 1e-9) { return false }
        if let l = r.lte, !(x <= l + 1e-9) { return false }
        return true
    }

    /// 2^(−dt/h) for dt ≥ 0 µs.
    @inline(__always) func decay(_ dt: EventDuration) -> Double {
        dt == 0 ? 1 : Double.exp2(-Double(dt) / halfLife)
    }
}

/// A bitset of atomic trait tests; inline for the usual ≤ 64 tests.
struct TraitBits: Equatable {
    var low: UInt64 = 0
    var high: [UInt64] = []

    @inline(__always) func get(_ i: Int) -> Bool {
        if i < 64 { return low & (1 << UInt64(i)) != 0 }
        let w = (i - 64) / 64
        return w < high.count && high[w] & (1 << UInt64((i - 64) % 64)) != 0
    }

    mutating func set(_ i: Int) {
        if i < 64 { low |= 1 << UInt64(i); return }
        let w = (i - 64) / 64
        while high.count <= w { high.append(0) }
        high[w] |= 1 << UInt64((i - 64) % 64)
    }

    mutating func formUnion(_ o: TraitBits) {
        low |= o.low
        if !o.high.isEmpty {
            while high.count < o.high.count { high.append(0) }
            for w in 0..<o.high.count { high[w] |= o.high[w] }
        }
    }

    mutating func clear(mask: TraitBits) {
        low &= ~mask.low
        for w in 0..<min(high.count, mask.high.count) { high[w] &= ~mask.high[w] }
    }
}

extension Double {
    @inline(__always) static func exp2(_ x: Double) -> Double { _exp2(x) }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _exp2(_ x: Double) -> Double { Glibc.exp2(x) }
@inline(__always) func _log2(_ x: Double) -> Double { Glibc.log2(x) }
#elseif canImport(Darwin)
import Darwin
@inline(__always) func _exp2(_ x: Double) -> Double { Darwin.exp2(x) }
@inline(__always) func _log2(_ x: Double) -> Double { Darwin.log2(x) }
#endif
