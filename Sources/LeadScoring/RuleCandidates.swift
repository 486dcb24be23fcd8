/// Which engagement rules an event can fire at all, as a 64-bit mask in rule order, from the rules' gates
/// (`ConditionProgram.Gate`): the rules keyed on the event's name, on a page pattern its path matches, and the
/// ungated ones (trait, score or count conditions).
///
/// Why: checking each rule's gate in turn cost ~19 instructions per rule and event, although an event admits
/// one or two rules of a typical file. One table load per event and the page bits it matched give the same
/// set; the rule loop then evaluates only those (the gate is necessary, never sufficient: `eval` decides).
/// Usable with up to 64 engagement rules; beyond, `mask` is nil and the caller checks every gate.
struct RuleCandidates {
    /// `byEvent[e]` for event ids 0..<64, then `byPage[p]` for page bits 0..<64.
    private let table: UnsafeMutablePointer<UInt64>
    private let ungated: UInt64
    private let usable: Bool

    init(roots: UnsafeMutableBufferPointer<Int32>, gates: UnsafeMutableBufferPointer<ConditionProgram.Gate>) {
        table = .allocate(capacity: 128)
        table.initialize(repeating: 0, count: 128)
        usable = roots.count <= 64
        var ungated: UInt64 = 0
        if usable {
            for (ri, root) in roots.enumerated() {
                let bit = UInt64(1) << UInt64(ri)
                let g = gates[Int(root)]
                if !g.gated { ungated |= bit; continue }
                for e in 0..<64 where g.events & (1 << UInt64(e)) != 0 { table[e] |= bit }
                for p in 0..<64 where g.pages & (1 << UInt64(p)) != 0 { table[64 + p] |= bit }
            }
        }
        self.ungated = ungated
    }

    /// Frees the table (the owner's deinit).
    func deallocate() { table.deallocate() }

    /// The rules whose gate admits an event with this name id (−1: none) and page bits; nil with more than
    /// 64 rules.
    @inline(__always) func mask(event: Int, pageBits: UInt64) -> UInt64? {
        guard usable else { return nil }
        var m = ungated
        if event >= 0 && event < 64 { m |= table[event] }
        var p = pageBits
        while p != 0 { m |= table[64 + p.trailingZeroBitCount]; p &= p - 1 }
        return m
    }
}
