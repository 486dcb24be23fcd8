/// All contacts of ONE input partition: applies events in order and produces the records of CONTRACTS §3–§4.
///
/// Not thread-safe: owned by one shard (actor) in the daemon, or by `replay`. Everything is a pure function
/// of the rules, the options and the sequence of events applied, so the daemon and `replay` agree byte for
/// byte. Per event: dedupe → recycles due as the watermark advances → traits → rule firings → stages → alert.
public final class PartitionEngine {
    /// All state lives in one struct. Unchecked: the engine is owned by one thread (see above), and the
    /// dynamic exclusivity check of a class property costs a thread-local lookup on every event.
    @exclusivity(unchecked) var core: EngineCore

    public init(rules: Rules, options: EngineOptions = .init()) {
        core = EngineCore(rules: rules, options: options)
    }

    public var rules: Rules { core.rules }
    public var options: EngineOptions { core.options }
    /// Newest event time among valid, non-duplicate, non-ignored events of this partition.
    public var watermark: EventTime? { core.watermark }
    public var contactCount: Int { core.contacts.count }
    public var eventsScored: Int { core.eventsScored }
    public var duplicates: Int { core.duplicates }
    public var ignored: Int { core.ignored }
    public var stageChanges: Int { core.stageChanges }
    public var alerts: Int { core.alerts }
    /// Per engagement rule (file order): firings and total awarded (undecayed) points.
    public var ruleFirings: [Int] { core.ruleFirings }
    public var ruleAwarded: [Double] { core.ruleAwarded }
    /// All contact ids, in creation order.
    public var contactIDs: [String] { core.contacts.ids }

    /// Applies one event; appends its records (recycles due, stage changes, alert) to `out` in order.
    @inline(__always)
    public func apply(_ event: SegmentEvent, trigger: consuming Trigger, into out: inout [OutputRecord]) -> ApplyResult {
        core.apply(event, trigger: trigger, into: &out)
    }

    /// The same for a scanned event and the bytes it was scanned from, without a String per event: ids,
    /// names and paths are hashed and compared where they are. `trigger.messageId` may be left empty: the
    /// engine fills it in from the event when a record needs it. Gives exactly the records of the
    /// `SegmentEvent` form.
    @inline(__always)
    public func apply(_ event: RawSegmentEvent, in bytes: UnsafeRawBufferPointer, trigger: consuming Trigger,
                      into out: inout [OutputRecord]) -> ApplyResult {
        core.apply(RawEventInput(raw: event, bytes: bytes), trigger: trigger, into: &out)
    }

    @inline(__always)
    func apply<E: EngineEvent>(_ event: E, trigger: consuming Trigger, into out: inout [OutputRecord]) -> ApplyResult {
        core.apply(event, trigger: trigger, into: &out)
    }

    /// The contact's score decayed to the partition watermark (or its own newest event time if later).
    public func contact(_ id: String) -> ContactView? { core.contact(id) }

    /// Estimated heap bytes held for contacts (fixed part, index, per-contact blocks, seen-id tables),
    /// for metrics and the memory benchmark. O(contacts).
    public func approximateMemoryBytes() -> Int { core.approximateMemoryBytes() }

    /// Contacts per stage (every stage present, zero when empty).
    public func stageCounts() -> [Stage: Int] { core.stageCounts() }

    /// Contact ids changed since the previous call (for incremental checkpoints).
    public func takeDirtyContactIDs() -> [String] { core.takeDirtyContactIDs() }

    /// The contact's state for a checkpoint; nil when the contact is unknown.
    public func encodeContact(_ id: String) -> [UInt8]? { core.encodeContact(id) }

    /// Makes room for `n` more contacts (before a restore of that many: no index rehash, no array growth).
    public func reserveContacts(_ n: Int) { core.reserveContacts(n) }

    /// Checkpoint bytes of each contact in `ids`, in order (empty for an unknown id: a deletion in a delta).
    public func encodeContacts(_ ids: [String]) -> [EncodedContact] { core.encodeContacts(ids) }

    /// Every contact's id and checkpoint bytes, in creation order, without keeping them: the bytes are lent to
    /// `body` (valid only during the call), for streaming a base checkpoint of every contact into its file.
    public func forEachEncodedContact(_ body: (String, UnsafeRawBufferPointer) throws -> Void) rethrows {
        try core.forEachEncodedContact(body)
    }

    /// Restores (or replaces) a contact from `encodeContact` bytes (any contact format), mapping rules and
    /// traits by name.
    public func restoreContact(id: String, bytes: UnsafeRawBufferPointer) throws { try core.restoreContact(id: id, bytes: bytes) }

    public func restoreContact(id: String, bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try core.restoreContact(id: id, bytes: $0) }
    }

    /// Watermark and counters of the partition.
    public func encodePartitionState() -> [UInt8] { core.encodePartitionState() }

    public func restorePartitionState(_ bytes: [UInt8]) throws { try core.restorePartitionState(bytes) }
}

/// The engine's state and logic (see `PartitionEngine`).
struct EngineCore {
    let compiled: CompiledRules
    public let rules: Rules
    public let options: EngineOptions

    let contacts = ContactStore()
    /// Open-addressing index: contact id (FNV-1a-64) → position in `contacts`; −1 = empty.
    var slots: [Int32] = Array(repeating: -1, count: 1024)
    /// Seen-id tables of the very active contacts (`ContactState.seenInTable`), by contact index (a cheap
    /// multiplicative hash: `Dictionary` ran SipHash twice per event of every such contact).
    var seenTables = HashedTable<Int32, SeenTable>()
    /// Newest event time among valid, non-duplicate, non-ignored events of this partition.
    var watermark: EventTime?
    var timers = RecycleTimers()
    private var dirtyList: [Int32] = []
    /// Page path → bits of the page patterns it matches (paths repeat, so no regex runs per event).
    private var pageCache = ByteKeyTable<UInt64>()
    private var traitCache = TraitValueCache()

    // Counters (the daemon exports them; `replay --report` prints them).
    var eventsScored = 0
    var duplicates = 0
    var ignored = 0
    var stageChanges = 0
    var alerts = 0
    /// Per engagement rule (file order): firings and total awarded (undecayed) points.
    var ruleFirings: [Int]
    var ruleAwarded: [Double]

    init(rules: Rules, options: EngineOptions) {
        self.rules = rules
        self.options = options
        self.compiled = CompiledRules(rules)
        ruleFirings = Array(repeating: 0, count: rules.engagement.count)
        ruleAwarded = Array(repeating: 0, count: rules.engagement.count)
    }

    public var contactCount: Int { contacts.count }

    // MARK: - apply

    /// Applies one event; appends its records (recycles due, stage changes, alert) to `out` in order.
    /// `trigger` is consumed: the engine fills in its message id when a record needs it, and a borrowed one
    /// would be copied for that on every event (a retain and a release of each of its strings).
    mutating func apply<E: EngineEvent>(_ event: E, trigger: consuming Trigger, into out: inout [OutputRecord]) -> ApplyResult {
        if event.kind == .group || event.kind == .alias { ignored += 1; return .ignored }
        let hash = event.withMessageId { engineFNV1a64($0) }
        let (idHash, existing) = event.withContactId { id in
            let h = indexHash(id)
            return (h, find(utf8: id, hash: h))
        }
        if let ci = existing, isDuplicate(ci, hash) { duplicates += 1; return .duplicate }
        let t = event.timestamp
        if watermark == nil || t > watermark! {
            if !timers.isEmpty { fireDueRecycles(before: t, event, trigger: &trigger, into: &out) }
            watermark = t
        }
        let ci: Int32
        if let e = existing { ci = e } else {
            ci = Int32(contacts.count)
            contacts.append(ContactState(id: event.contactIdString(), time: t))
            insertIndex(ci, hash: idHash)
        }
        // Through the contact's address: an inout access to `contacts[ci]` retains and releases the store
        // around the call (one atomic pair per event). The store does not grow during `process`.
        process(&contacts.address(Int(ci)).pointee, ci, event, hash: hash, isNew: existing == nil, trigger: &trigger, into: &out)
        markDirty(ci)
        eventsScored += 1
        return .scored
    }

    @inline(__always) private mutating func markDirty(_ ci: Int32) {
        if contacts[Int(ci)].flags & ContactState.dirty == 0 {
            contacts[Int(ci)].flags |= ContactState.dirty
            dirtyList.append(ci)
        }
    }

    typealias EventContext = CompiledRules.EventContext
    typealias Scores = CompiledRules.Scores

    private mutating func context<E: EngineEvent>(of event: E) -> EventContext {
        var ctx = EventContext()
        switch event.kind {
        case .track:
            if compiled.eventTable.count > 0, let i = event.withEventName({ compiled.eventTable.find(utf8: $0) }) ?? nil { ctx.event = i }
        case .page:
            if !compiled.pagePatterns.isEmpty, let bits = event.withPagePath({ pageBits($0) }) { ctx.pageBits = bits }
        default: break
        }
        return ctx
    }

    /// The test bits a trait value satisfies (values repeat — titles, industries — so regexes run once per value).
    private mutating func traitValueBits(_ ti: Int, _ value: TraitInput) -> TraitBits {
        guard compiled.cacheTraitValues[ti] else { return compiled.valueBits(ti, value.traitValue) }
        let h: UInt64
        let cached: TraitBits?
        switch value {
        case .text(let utf8):   // looked up by its bytes: a String only on a miss
            h = TraitValueCache.hash(ti, utf8: utf8)
            cached = traitCache.find(ti, utf8: utf8, hash: h)
        case .value(let v):
            h = TraitValueCache.hash(ti, v)
            cached = traitCache.find(ti, v, hash: h)
        }
        if let cached { return cached }
        let v = value.traitValue
        let bits = compiled.valueBits(ti, v)
        traitCache.insert(ti, v, hash: h, bits: bits)
        return bits
    }

    /// Page path (UTF-8) → the bits of the page patterns it matches.
    private mutating func pageBits(_ utf8: UnsafeRawBufferPointer) -> UInt64 {
        let h = indexHash(utf8)
        if let b = pageCache.find(utf8: utf8, hash: h) { return b }
        let path = String(decoding: utf8, as: UTF8.self)
        var bits: UInt64 = 0
        for (i, p) in compiled.pagePatterns.enumerated() where i < 64 && p.search(path) { bits |= 1 << UInt64(i) }
        if pageCache.count >= 65_536 { pageCache.removeAll() }
        pageCache.set(utf8: utf8, hash: h, bits)
        return bits
    }

    /// `isNew`: the contact was created for this event, so its fit is evaluated even when no trait test's
    /// result changes (rules like `not: { trait: … }` hold for a contact without traits).
    private mutating func process<E: EngineEvent>(_ c: inout ContactState, _ ci: Int32, _ event: E, hash: UInt64, isNew: Bool,
                         trigger: inout Trigger, into out: inout [OutputRecord]) {
        let t = event.timestamp
        if t > c.newest {
            if c.slotCount > 0 { c.decayContributions(compiled.decay(t - c.newest)) }
            c.newest = t
        }
        let T = c.newest
        let ctx = context(of: event)

        // Traits: latest event time wins; equal time → later arrival.
        var traitsChanged = false
        if event.hasTraits && compiled.traitCount > 0 {
            event.forEachTrait { name, value in
                guard let ti = compiled.traitTable.find(utf8: name) else { return }
                guard t >= c.traitTime(ti) else { return }
                c.setTraitTime(ti, t, traits: compiled.traitCount)
                if compiled.traitTestCount <= 64 {
                    let valueBits: UInt64
                    if !compiled.cacheTraitValues[ti], let m = compiled.matcher, let b = m.lowBits(ti, value) {
                        valueBits = b
                    } else {
                        valueBits = traitValueBits(ti, value).low
                    }
                    let bits = (c.traitBitsLow & ~compiled.traitMaskLow[ti]) | valueBits
                    if bits != c.traitBitsLow { c.traitBitsLow = bits; traitsChanged = true }
                } else {
                    let old = c.traitBits
                    var bits = old
                    bits.clear(mask: compiled.traitMask[ti])
                    bits.formUnion(traitValueBits(ti, value))
                    if bits != old { c.setTraitBits(bits); traitsChanged = true }
                }
            }
        }
        // Engagement before this event's firings (traits and fit do not change it): summed once.
        let e0 = c.engagement
        if traitsChanged || isNew || compiled.fitNeedsEveryEvent {
            let sc = Scores(fit: c.fit, engagement: e0, total: compiled.clamp(c.fit + e0))
            var fit = 0.0
            var mask: UInt32 = 0
            let roots = compiled.fitRoots, points = compiled.fitPointsBuf
            for i in 0..<roots.count where compiled.evalRoot(roots[i], ctx, c, sc) {
                fit += points[i]
                if i < 32 { mask |= 1 << UInt32(i) }
            }
            c.fitMask = mask
            if fit != c.fit { c.fit = fit; c.lastPointsChange = T }
        }

        // Rule firings: conditions see the event, the traits after this event, and the scores (and firing
        // counts) before this event's firings — so the rules of one event do not depend on each other.
        var firstHighIntent = -1
        var anyFired = false
        let engagementRoots = compiled.engagementRoots
        if engagementRoots.count > 0 {
            let before = Scores(fit: c.fit, engagement: e0, total: compiled.clamp(c.fit + e0))
            var fired = Bits256()
            let params = compiled.params
            /// The rule's condition holds and its limit allows a firing.
            func fires(_ ri: Int, _ root: Int32) -> Bool {
                guard compiled.eval(root, ctx, c, before) else { return false }
                let p = params[ri]
                // Firings older than the rule's horizon count as forgotten whether or not they were pruned
                // yet, so results never depend on when pruning ran (checkpoint restore included).
                return !(p.limitPer > 0
                         && c.firings(rule: Int32(ri), after: max(t &- p.limitPer, T &- p.horizon), upTo: t) >= p.limitCount)
            }
            if var m = compiled.engagementCandidates.mask(event: ctx.event, pageBits: ctx.pageBits) {
                while m != 0 {
                    let ri = m.trailingZeroBitCount
                    if fires(ri, engagementRoots[ri]) { fired.insert(ri) }
                    m &= m - 1
                }
            } else {
                for ri in 0..<engagementRoots.count {
                    let root = engagementRoots[ri]
                    if compiled.gates[Int(root)].admits(event: ctx.event, pageBits: ctx.pageBits), fires(ri, root) { fired.insert(ri) }
                }
            }
            var pointsChanged = false
            anyFired = !fired.isEmpty
            let lateFactor = compiled.decay(T - t)
            fired.forEach { ri in
                let r = Int32(ri)
                let p = params[ri]
                let si = c.slot(for: r)
                var awarded = p.points
                let abs = c.awardedAbs(si)
                if !p.maxPoints.isNaN {
                    let remaining = max(0, p.maxPoints - abs)
                    if awarded.magnitude > remaining { awarded = awarded < 0 ? -remaining : remaining }
                }
                c.setAwardedAbs(si, abs + awarded.magnitude)
                c.setContrib(si, c.contrib(si) + awarded * lateFactor)
                if awarded != 0 { pointsChanged = true }
                if p.keepTimes { c.addFiring(rule: r, at: t) }
                if p.highIntent && firstHighIntent < 0 { firstHighIntent = ri }
                ruleFirings[ri] += 1
                ruleAwarded[ri] += awarded
            }
            if pointsChanged { c.lastPointsChange = T }
            if c.firingCount > 0 { c.pruneFirings(horizons: params) }
        }

        // Unchanged (to the bit) when no rule fired: the sum is over the same contributions in the same order.
        let eng = anyFired ? c.engagement : e0
        let after = Scores(fit: c.fit, engagement: eng, total: compiled.clamp(c.fit + eng))

        // Stages. Entered this event: a mask by stage raw value (funnel stages only).
        var entered: UInt32 = 0
        let prevStage = c.stage
        var alertsAllowed = true
        if c.stage != .disqualified, compiled.disqualifyWhen >= 0, compiled.evalRoot(compiled.disqualifyWhen, ctx, c, after) {
            emitStage(c, ci, from: c.stage, to: .disqualified, event, trigger: &trigger, into: &out)
            c.stage = .disqualified
            alertsAllowed = false
        } else {
            var proceed = true
            if c.stage == .disqualified {
                if compiled.disqualifyUntil >= 0, compiled.evalRoot(compiled.disqualifyUntil, ctx, c, after) {
                    emitStage(c, ci, from: .disqualified, to: .lead, event, trigger: &trigger, into: &out)
                    c.stage = .lead
                    entered |= 1 << UInt32(Stage.lead.rawValue)
                } else {
                    proceed = false
                    alertsAllowed = false
                }
            }
            if proceed {
                var target: Stage?
                // The funnel from its top down to just above the current stage (raw values are funnel order).
                var r = Stage.funnel.count - 1
                while r > c.stage.rawValue {
                    let cond = compiled.stageRoots[r]
                    if cond >= 0, compiled.evalRoot(cond, ctx, c, after) { target = Stage(rawValue: r); break }
                    r -= 1
                }
                if let target {
                    emitStage(c, ci, from: c.stage, to: target, event, trigger: &trigger, into: &out)
                    c.stage = target
                    entered |= 1 << UInt32(target.rawValue)
                } else if compiled.isRecycleFrom(prevStage), c.stage == prevStage,
                          !(after.total >= compiled.recycleBelow - 1e-9) {
                    emitStage(c, ci, from: prevStage, to: .lead, event, trigger: &trigger, into: &out)
                    c.stage = .lead
                    entered |= 1 << UInt32(Stage.lead.rawValue)
                }
            }
        }

        // Alert: at most one per event and contact.
        if alertsAllowed && c.stage != .disqualified {
            let quiet = options.quietUntil.map { t < $0 } ?? false
            if !quiet {
                if entered & compiled.alertStageMask != 0 {
                    emitAlert(c, reason: .stage, event, trigger: &trigger, into: &out)
                    c.lastAlert = T
                } else if firstHighIntent >= 0, let oi = rules.alerts.onIntent, c.stage >= oi.minStage,
                          c.lastAlert == ContactState.none || T - c.lastAlert >= oi.suppressFor {
                    emitAlert(c, reason: .intent(firstHighIntent), event, trigger: &trigger, into: &out)
                    c.lastAlert = T
                }
            }
        }

        // Recycle (b) timer (the contact's engagement has not changed since `after`).
        updateTimer(&c, ci, engagement: eng)

        // Dedupe memory.
        remember(&c, ci, hash, at: t)
    }

    // MARK: - recycle (b)

    /// The moment (µs, floor) after which the contact's decayed total is below `recycle.below`, or `never`.
    private mutating func updateTimer(_ c: inout ContactState, _ ci: Int32, engagement: Double) {
        let at = compiled.crossing(c, engagement: engagement)
        if at != c.recycleAt {
            c.recycleAt = at
            if at != ContactState.never { timers.push(at: at, contact: ci) }
        }
    }

    /// Recycles every contact whose crossing moment the new watermark `w` moves strictly past,
    /// in order of crossing moment, then contact id.
    private mutating func fireDueRecycles<E: EngineEvent>(before w: EventTime, _ event: E, trigger: inout Trigger,
                                                         into out: inout [OutputRecord]) {
        var due: [(at: EventTime, ci: Int32)] = []
        while let top = timers.peek, top.at < w {
            timers.pop()
            guard contacts[Int(top.contact)].recycleAt == top.at else { continue }   // stale entry (no copy of the contact)
            due.append((top.at, top.contact))
        }
        if due.isEmpty { return }
        if due.count > 1 {
            due.sort { a, b in
                a.at != b.at ? a.at < b.at : contacts[Int(a.ci)].id < contacts[Int(b.ci)].id
            }
        }
        for d in due {
            let i = Int(d.ci)
            guard contacts[i].recycleAt == d.at else { continue }
            let c = contacts[i]
            emitStage(c, d.ci, from: c.stage, to: .lead, at: d.at, event, trigger: &trigger, into: &out)
            contacts[i].stage = .lead
            contacts[i].recycleAt = ContactState.never
            markDirty(d.ci)
        }
        timers.compactIfNeeded { ci, at in self.contacts[Int(ci)].recycleAt == at }
    }

    // MARK: - scores and records

    /// Appends a stage-change record and restarts the contact's time-in-stage clock at the record's `at`.
    private mutating func emitStage<E: EngineEvent>(_ c: ContactState, _ ci: Int32, from: Stage, to: Stage, at: EventTime? = nil,
                                                   _ event: E, trigger: inout Trigger, into out: inout [OutputRecord]) {
        Self.fill(&trigger, from: event)
        let at = at ?? c.newest
        let id = Self.recordId(c.id, ":stage:", from.name, ">", to.name, ":", trigger.messageId)
        var w = JSONWriter(capacity: 768)
        w.raw("{\"id\":"); w.string(id)
        w.raw(",\"type\":\"stage_changed\",\"contact_id\":"); w.string(c.id)
        w.raw(",\"from\":"); w.string(from.name)
        w.raw(",\"to\":"); w.string(to.name)
        w.raw(",\"at\":"); w.time(at)
        compiled.writeCommon(&w, c, at: at)
        CompiledRules.writeTrigger(&w, trigger)
        w.raw(",\"rules_version\":"); w.string(rules.version)
        w.byte(0x7D)
        var record = OutputRecord(kind: .stageChange, contactId: c.id, id: id, json: w.bytes)
        record.from = from
        record.to = to
        let entered = contacts.stageEnteredAt(Int(ci))
        if entered != ContactState.none { record.timeInPreviousStage = max(0, at &- entered) }
        contacts.setStageEnteredAt(Int(ci), at)
        out.append(record)
        stageChanges += 1
    }

    /// A record id (CONTRACTS §4) in one allocation (chained `+` reallocates as the string grows).
    static func recordId(_ a: String, _ b: String, _ c: String, _ d: String = "", _ e: String = "",
                         _ f: String = "", _ g: String = "") -> String {
        var id = ""
        id.reserveCapacity(a.utf8.count + b.utf8.count + c.utf8.count + d.utf8.count + e.utf8.count + f.utf8.count + g.utf8.count)
        id += a; id += b; id += c; id += d; id += e; id += f; id += g
        return id
    }

    /// The trigger's message id, made from the event when the caller left it empty (the raw form).
    @inline(__always) static func fill<E: EngineEvent>(_ trigger: inout Trigger, from event: E) {
        if trigger.messageId.isEmpty { trigger.messageId = event.messageIdString() }
    }

    enum AlertReason { case stage, intent(Int) }

    private mutating func emitAlert<E: EngineEvent>(_ c: ContactState, reason: AlertReason, _ event: E, trigger: inout Trigger,
                                                   into out: inout [OutputRecord]) {
        Self.fill(&trigger, from: event)
        let at = c.newest
        let id: String
        var ruleName: String?
        switch reason {
        case .stage: id = Self.recordId(c.id, ":alert:stage:", trigger.messageId)
        case .intent(let r):
            ruleName = rules.engagement[r].name
            id = Self.recordId(c.id, ":alert:intent:", ruleName!, ":", trigger.messageId)
        }
        let s = compiled.scores(c, at: at)
        var w = JSONWriter(capacity: 768)
        w.raw("{\"id\":"); w.string(id)
        w.raw(",\"type\":\"hot_lead\",\"contact_id\":"); w.string(c.id)
        if let ruleName { w.raw(",\"reason\":\"intent\",\"rule\":"); w.string(ruleName) } else { w.raw(",\"reason\":\"stage\"") }
        w.raw(",\"stage\":"); w.string(c.stage.name)
        let g = rules.grades
        let level: UInt8 = s.fit >= g.fitA - 1e-9 ? 1 : (s.fit >= g.fitB - 1e-9 ? 2 : 3)
        let priority: StaticString = level == 1 ? "P1" : (level == 2 ? "P2" : "P3")
        w.raw(",\"priority\":\""); w.raw(priority); w.byte(0x22)
        compiled.writeCommon(&w, c, at: at)
        CompiledRules.writeTrigger(&w, trigger)
        w.raw(",\"at\":"); w.time(at)
        w.raw(",\"rules_version\":"); w.string(rules.version)
        w.byte(0x7D)
        var record = OutputRecord(kind: .alert, contactId: c.id, id: id, json: w.bytes)
        record.intent = ruleName != nil
        record.priority = level
        out.append(record)
        alerts += 1
    }

    // MARK: - contact index and seen ids

    @inline(__always) func find(_ id: String, hash: UInt64) -> Int32? {
        withUTF8Bytes(id) { find(utf8: $0, hash: hash) }
    }

    /// The contact whose id has this UTF-8 (`hash`: its `indexHash`).
    @inline(__always) func find(utf8 id: UnsafeRawBufferPointer, hash: UInt64) -> Int32? {
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: hash) & mask
        while true {
            let ci = slots[i]
            if ci < 0 { return nil }
            if utf8Equals(contacts[Int(ci)].id, id) { return ci }
            i = (i + 1) & mask
        }
    }

    /// Index and storage for `n` more contacts; the index keeps its load at most one half, as `insertIndex` does.
    mutating func reserveContacts(_ n: Int) {
        let total = contacts.count + n
        contacts.reserveCapacity(total)
        var size = slots.count
        while (total + 1) * 2 > size { size *= 2 }
        guard size > slots.count else { return }
        var bigger = Array(repeating: Int32(-1), count: size)
        let mask = size - 1
        for k in 0..<contacts.count {
            var i = Int(truncatingIfNeeded: indexHash(contacts[k].id)) & mask
            while bigger[i] >= 0 { i = (i + 1) & mask }
            bigger[i] = Int32(k)
        }
        slots = bigger
    }

    private mutating func insertIndex(_ ci: Int32, hash: UInt64) {
        if (contacts.count + 1) * 2 > slots.count {
            var bigger = Array(repeating: Int32(-1), count: slots.count * 2)
            let mask = bigger.count - 1
            for k in 0..<contacts.count where k != Int(ci) {
                var i = Int(truncatingIfNeeded: indexHash(contacts[k].id)) & mask
                while bigger[i] >= 0 { i = (i + 1) & mask }
                bigger[i] = Int32(k)
            }
            slots = bigger
        }
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: hash) & mask
        while slots[i] >= 0 { i = (i + 1) & mask }
        slots[i] = ci
    }

    @inline(__always) private func isDuplicate(_ ci: Int32, _ hash: UInt64) -> Bool {
        let i = Int(ci)
        let cutoff = contacts[i].newest &- rules.dedupeWindow
        if contacts[i].flags & ContactState.seenInTable != 0 {
            return seenTables.find(ci, hash: Self.tableHash(ci))?.contains(hash, cutoff: cutoff) ?? false
        }
        return contacts[i].seenContains(hash, cutoff: cutoff)
    }

    /// Records a message id; keeps ids within the dedupe window of the newest event time.
    mutating func remember(_ c: inout ContactState, _ ci: Int32, _ hash: UInt64, at t: EventTime, prune: Bool = true) {
        let cutoff = c.newest &- rules.dedupeWindow
        if c.flags & ContactState.seenInTable != 0, let table = seenTables.find(ci, hash: Self.tableHash(ci)) {
            table.insert(hash, at: t)
            if prune { table.prune(cutoff: cutoff) }
            return
        }
        c.seenAppend(hash, t)
        if prune { c.seenPrune(cutoff: cutoff) }
        if c.seenCount > ContactState.seenArrayLimit {
            let table = SeenTable()
            for s in c.seenEntries { table.insert(s.hash, at: s.time) }
            c.seenRemoveAll()
            c.flags |= ContactState.seenInTable
            seenTables.set(ci, hash: Self.tableHash(ci), table)
        }
    }

    @inline(__always) static func tableHash(_ ci: Int32) -> UInt64 {
        let h = UInt64(UInt32(bitPattern: ci)) &* 0x9E37_79B9_7F4A_7C15
        return h ^ (h >> 32)
    }

    // MARK: - queries

    /// The contact's score decayed to the partition watermark (or its own newest event time if later).
    public func contact(_ id: String) -> ContactView? {
        guard let ci = find(id, hash: indexHash(id)) else { return nil }
        let c = contacts[Int(ci)]
        let at = max(watermark ?? c.newest, c.newest)
        let s = compiled.scores(c, at: at)
        return ContactView(contactId: c.id, stage: c.stage, total: s.total, fit: s.fit, engagement: s.engagement,
                           grade: compiled.grade(s), topRules: compiled.topRules(c, at: at), asOf: at, lastEventTime: c.newest)
    }

    func approximateMemoryBytes() -> Int {
        var bytes = contacts.count * (MemoryLayout<ContactState>.stride + MemoryLayout<EventTime>.stride) + slots.count * 4
        for i in 0..<contacts.count {
            let c = contacts[i]
            if c.blob.capacity > 0 { bytes += 48 + c.blob.capacity * 8 }     // array header + malloc overhead
            if c.id.utf8.count > 15 { bytes += 48 + c.id.utf8.count }         // out-of-line string storage
        }
        seenTables.forEachValue { bytes += $0.approximateBytes }
        return bytes
    }

    /// Contacts per stage (every stage present, zero when empty).
    public func stageCounts() -> [Stage: Int] {
        var counts: [Stage: Int] = [:]
        for s in Stage.allCases { counts[s] = 0 }
        for i in 0..<contacts.count { counts[contacts[i].stage, default: 0] += 1 }
        return counts
    }

    /// Contact ids changed since the previous call (for incremental checkpoints).
    public mutating func takeDirtyContactIDs() -> [String] {
        let ids = dirtyList.map { contacts[Int($0)].id }
        for ci in dirtyList { contacts[Int(ci)].flags &= ~ContactState.dirty }
        dirtyList.removeAll(keepingCapacity: true)
        return ids
    }

    /// Puts a restored contact in place (checkpoint restore); its recycle timer is re-armed.
    /// `stageEnteredAt`: when it entered its current stage, `ContactState.none` when the checkpoint did not say.
    mutating func install(_ c: ContactState, seen: [(hash: UInt64, time: EventTime)], stageEnteredAt: EventTime) {
        let h = indexHash(c.id)
        var c = c
        let existing = find(c.id, hash: h)
        let ci = existing ?? Int32(contacts.count)
        c.flags = (c.flags & ~(ContactState.dirty | ContactState.seenInTable))
            | (existing.map { contacts[Int($0)].flags & ContactState.dirty } ?? 0)
        // A contact replaced by a restore starts over in array mode (a table left behind is unused until
        // the contact needs one again, and then replaced).
        for s in seen { remember(&c, ci, s.hash, at: s.time, prune: false) }
        if existing != nil {
            contacts[Int(ci)] = c
            contacts.setStageEnteredAt(Int(ci), stageEnteredAt)
        } else {
            contacts.append(c, stageEnteredAt: stageEnteredAt)
            insertIndex(ci, hash: h)
        }
        if c.recycleAt != ContactState.never { timers.push(at: c.recycleAt, contact: ci) }
    }

    mutating func setRestored(watermark: EventTime?, counters: [Int]) {
        self.watermark = watermark
        eventsScored = counters[0]; duplicates = counters[1]; ignored = counters[2]
        stageChanges = counters[3]; alerts = counters[4]
    }

}
