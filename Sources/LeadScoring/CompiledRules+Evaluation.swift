/// The compiled rules applied to one contact: conditions, clamped and decayed scores, grade, top rules, the
/// recycle crossing and the parts of a record they fill in.
///
/// These are pure functions of the rules and a contact, so they live on the (reference-type) `CompiledRules`
/// and not on `EngineCore`: a non-mutating method of that large struct, called from its mutating `apply`,
/// gets a copy of the whole struct (~400 bytes, a `memcpy`) on every call, and `eval` runs several times
/// per event — that copy was 7 % of scoring.
extension CompiledRules {
    /// What an event offers to conditions.
    struct EventContext {
        var event: Int = -1
        var pageBits: UInt64 = 0
        static let empty = EventContext()
    }

    struct Scores {
        var fit: Double
        var engagement: Double
        var total: Double
    }

    @inline(__always) func clamp(_ x: Double) -> Double {
        var v = x
        if let mn = rules.scoreMin, v < mn { v = mn }
        if let mx = rules.scoreMax, v > mx { v = mx }
        return v
    }

    /// The test bits of trait `ti` that `value` satisfies.
    func valueBits(_ ti: Int, _ value: TraitValue) -> TraitBits {
        var bits = TraitBits()
        for b in testsOfTrait[ti] where Self.holds(traitTests[b].test, value) { bits.set(b) }
        return bits
    }

    @inline(__always) static func inRange(_ x: Double, _ n: ConditionProgram.Node) -> Bool {
        x >= n.lo - 1e-9 && x <= n.hi + 1e-9
    }

    /// Condition `root` of a rule or stage, after its gate: most are keyed on one event name or page, and
    /// are not evaluated for other events.
    @inline(__always) func evalRoot(_ root: Int32, _ ctx: EventContext, _ s: borrowing ContactState, _ sc: Scores) -> Bool {
        gates[Int(root)].admits(event: ctx.event, pageBits: ctx.pageBits) && eval(root, ctx, s, sc)
    }

    /// Condition `root` for a contact, the event it is processing and its scores.
    func eval(_ root: Int32, _ ctx: EventContext, _ s: borrowing ContactState, _ sc: Scores) -> Bool {
        let node = nodes[Int(root)]
        switch node.op {
        case .traitBit: return s.traitBit(Int(node.a))
        case .event: return ctx.event == Int(node.a)
        case .page: return ctx.pageBits & (1 << UInt64(node.a)) != 0
        case .scoreTotal: return Self.inRange(sc.total, node)
        case .scoreFit: return Self.inRange(sc.fit, node)
        case .scoreEngagement: return Self.inRange(sc.engagement, node)
        case .count:
            let n = s.firings(rule: node.a, after: s.newest &- node.within, upTo: s.newest)
            return Self.inRange(Double(n), node)
        case .all:
            for i in 0..<Int(node.b) where !eval(children[Int(node.a) + i], ctx, s, sc) { return false }
            return true
        case .any:
            for i in 0..<Int(node.b) where eval(children[Int(node.a) + i], ctx, s, sc) { return true }
            return false
        case .not: return !eval(node.a, ctx, s, sc)
        case .never: return false
        }
    }

    /// The moment (µs, floor) after which the contact's decayed total is below `recycle.below`, or `never`.
    /// - Parameter engagement: the contact's `engagement`, when the caller has it summed already.
    func crossing(_ c: borrowing ContactState, engagement: Double? = nil) -> EventTime {
        guard isRecycleFrom(c.stage) else { return ContactState.never }
        let target = recycleBelow - 1e-9
        let e = engagement ?? c.engagement
        let total = clamp(c.fit + e)
        if !(total >= target) { return c.lastPointsChange }
        if let mn = rules.scoreMin, target <= mn { return ContactState.never }
        guard e > 0 else { return ContactState.never }
        let gap = target - c.fit
        guard gap > 0 else { return ContactState.never }
        let x = halfLife * _log2(e / gap)
        let at = (Double(c.newest) + x).rounded(.down)
        guard at.isFinite, at < 9.0e18 else { return ContactState.never }
        return max(c.newest, EventTime(at))
    }

    /// The contact's scores with engagement decayed to `at`.
    func scores(_ c: borrowing ContactState, at: EventTime) -> Scores {
        let f = at == c.newest ? 1.0 : _exp2(-Double(at - c.newest) / halfLife)
        let e = c.engagement * f
        return Scores(fit: c.fit, engagement: e, total: clamp(c.fit + e))
    }

    func grade(_ s: Scores) -> String {
        let (letter, digit) = gradeBytes(s)
        return String(decoding: [letter, digit], as: UTF8.self)
    }

    /// The grade's fit letter and engagement digit as ASCII bytes (records write them without a String).
    @inline(__always) func gradeBytes(_ s: Scores) -> (UInt8, UInt8) {
        let g = rules.grades
        let letter: UInt8 = s.fit >= g.fitA - 1e-9 ? 0x41 : (s.fit >= g.fitB - 1e-9 ? 0x42 : 0x43)
        let digit: UInt8 = s.engagement >= g.engagement1 - 1e-9 ? 0x31 : (s.engagement >= g.engagement2 - 1e-9 ? 0x32 : 0x33)
        return (letter, digit)
    }

    /// The three largest contributions (by magnitude, then rule name) at `at`.
    func topRules(_ c: borrowing ContactState, at: EventTime) -> [(rule: String, points: Double)] {
        var all: [(rule: String, points: Double)] = []
        forEachTopRule(c, at: at) { all.append((topRuleNames[$0], $1)) }
        return all
    }

    /// Calls `body` with the top rules in record order: (position in `topRuleNames`, points rounded to 6
    /// decimals). Up to three, without an array or a sort per record: this runs for every stage change and
    /// alert. The order is a stable sort's: by magnitude descending, then name (`topRuleRank`, the names'
    /// `String` order), then fit rules in file order before engagement rules in rule order.
    func forEachTopRule(_ c: borrowing ContactState, at: EventTime, _ body: (Int, Double) -> Void) {
        var top: ((Int32, Double), (Int32, Double), (Int32, Double)) = ((0, 0), (0, 0), (0, 0))
        var n = 0
        func offer(_ r: Int32, _ p: Double) {
            withUnsafeMutableBytes(of: &top) { raw in
                let t = raw.bindMemory(to: (Int32, Double).self)
                let m = p.magnitude, rank = topRuleRank[Int(r)]
                var k = 0
                while k < n {
                    let (q, qp) = t[k]
                    if m > qp.magnitude || (m == qp.magnitude && rank < topRuleRank[Int(q)]) { break }
                    k += 1
                }
                guard k < 3 else { return }
                var j = min(n, 2)
                while j > k { t[j] = t[j - 1]; j -= 1 }
                t[k] = (r, p)
                n = min(n + 1, 3)
            }
        }
        for i in 0..<fitPointsBuf.count {
            let holds: Bool
            if i < 32 { holds = c.fitMask & (1 << UInt32(i)) != 0 } else {
                let e = c.engagement
                holds = eval(fit[i], .empty, c, Scores(fit: c.fit, engagement: e, total: clamp(c.fit + e)))
            }
            if holds, case let p = JSONWriter.round6(fitPointsBuf[i]), p != 0 { offer(Int32(i), p) }
        }
        // Non-zero as the record shows it: a contribution decayed below 5e-7 would print as `"points":0`.
        let f = at == c.newest ? 1.0 : _exp2(-Double(at - c.newest) / halfLife)
        let fitCount = Int32(fitPointsBuf.count)
        for i in 0..<c.slotCount where c.contrib(i) != 0 {
            let p = JSONWriter.round6(c.contrib(i) * f)
            if p != 0 { offer(fitCount + c.slotRule(i), p) }
        }
        withUnsafeBytes(of: &top) { raw in
            let t = raw.bindMemory(to: (Int32, Double).self)
            for k in 0..<n { body(Int(t[k].0), t[k].1) }
        }
    }

    /// `score`, `grade` and `top_rules` of a record (CONTRACTS §4), at `at`.
    func writeCommon(_ w: inout JSONWriter, _ c: borrowing ContactState, at: EventTime) {
        let s = scores(c, at: at)
        w.raw(",\"score\":{\"total\":"); w.number(s.total)
        w.raw(",\"fit\":"); w.number(s.fit)
        w.raw(",\"engagement\":"); w.number(s.engagement)
        let (letter, digit) = gradeBytes(s)
        w.raw("},\"grade\":\""); w.byte(letter); w.byte(digit)
        w.raw("\",\"top_rules\":[")
        var first = true
        forEachTopRule(c, at: at) { r, points in
            if !first { w.byte(0x2C) }
            first = false
            w.raw("{\"rule\":"); w.string(topRuleNames[r]); w.raw(",\"points\":"); w.number(points); w.byte(0x7D)
        }
        w.byte(0x5D)
    }

    static func writeTrigger(_ w: inout JSONWriter, _ t: Trigger) {
        w.raw(",\"trigger\":{\"message_id\":"); w.string(t.messageId)
        if let topic = t.topic { w.raw(",\"topic\":"); w.string(topic) }
        if let p = t.partition { w.raw(",\"partition\":"); w.integer(Int64(p)) }
        if let o = t.offset { w.raw(",\"offset\":"); w.integer(o) }
        w.byte(0x7D)
    }
}
