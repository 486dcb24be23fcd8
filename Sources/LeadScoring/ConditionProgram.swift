/// Conditions flattened into one array of nodes (children by index), so evaluating a rule on the hot path
/// touches no reference counts and no enum payload boxes.
struct ConditionProgram {
    enum Op: UInt8 { case traitBit, event, page, scoreTotal, scoreFit, scoreEngagement, count, all, any, not, never }

    struct Node {
        var op: Op
        /// trait bit, event id, page pattern, rule (count), first child (all/any/not)
        var a: Int32 = 0
        /// number of children (all/any)
        var b: Int32 = 0
        /// inclusive bounds, ±∞ when absent
        var lo: Double = -.infinity
        var hi: Double = .infinity
        var within: EventDuration = 0
    }

    /// What an event must offer for a condition to possibly hold: a track event among `events` (ids below 64)
    /// or a page matching one of `pages` (page-pattern bits). `gated` false: any event may do (traits, scores,
    /// counts). Checked before evaluating a root, so that of the rules keyed on one event name or page only
    /// those of the event at hand are evaluated (most rules and stages are; `eval` costs a call per node).
    struct Gate {
        var gated = false
        var events: UInt64 = 0
        var pages: UInt64 = 0

        @inline(__always) func admits(event: Int, pageBits: UInt64) -> Bool {
            !gated || (event >= 0 && event < 64 && events & (1 << UInt64(event)) != 0) || pages & pageBits != 0
        }
    }

    /// The gate of node `i`: a necessary condition, never a sufficient one.
    func gate(_ i: Int32) -> Gate {
        let n = nodes[Int(i)]
        switch n.op {
        case .event: return n.a < 64 ? Gate(gated: true, events: 1 << UInt64(n.a)) : Gate()
        case .page: return Gate(gated: true, pages: 1 << UInt64(n.a))
        case .never: return Gate(gated: true)
        case .traitBit, .scoreTotal, .scoreFit, .scoreEngagement, .count, .not: return Gate()
        case .all:
            // Every child must hold: each gated child's gate applies, so their intersection does.
            var g = Gate()
            for k in 0..<Int(n.b) {
                let c = gate(children[Int(n.a) + k])
                guard c.gated else { continue }
                if g.gated { g.events &= c.events; g.pages &= c.pages } else { g = c }
            }
            return g
        case .any:
            // One child must hold: gated only when every child is, by the union of their gates.
            var g = Gate(gated: true)
            for k in 0..<Int(n.b) {
                let c = gate(children[Int(n.a) + k])
                guard c.gated else { return Gate() }
                g.events |= c.events; g.pages |= c.pages
            }
            return g
        }
    }

    private(set) var nodes: [Node] = []
    private(set) var children: [Int32] = []

    /// Adds a condition; returns its root node.
    mutating func add(_ c: CompiledRules.Cond) -> Int32 {
        func bounds(_ n: inout Node, _ r: NumberRange) {
            if let g = r.gte { n.lo = g }
            if let l = r.lte { n.hi = l }
        }
        var node: Node
        switch c {
        case .traitBit(let b): node = Node(op: .traitBit, a: Int32(b))
        case .event(let e): node = Node(op: .event, a: Int32(e))
        case .page(let p): node = Node(op: p < 64 ? .page : .never, a: Int32(p))
        case .score(let kind, let r):
            node = Node(op: kind == .total ? .scoreTotal : (kind == .fit ? .scoreFit : .scoreEngagement))
            bounds(&node, r)
        case .count(let rule, let r, let within):
            node = Node(op: .count, a: Int32(rule), within: within)
            bounds(&node, r)
        case .all(let cs), .any(let cs):
            let roots = cs.map { add($0) }
            let start = Int32(children.count)
            children.append(contentsOf: roots)
            if case .all = c { node = Node(op: .all, a: start, b: Int32(roots.count)) } else {
                node = Node(op: .any, a: start, b: Int32(roots.count))
            }
        case .not(let x):
            let root = add(x)
            node = Node(op: .not, a: root)
        }
        nodes.append(node)
        return Int32(nodes.count - 1)
    }
}
