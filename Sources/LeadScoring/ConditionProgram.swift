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
