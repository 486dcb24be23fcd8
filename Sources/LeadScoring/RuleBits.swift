/// A set of engagement rule indices (at most 255 rules, `Limits`), on the stack: the rules one event fires,
/// collected before any is awarded, then visited in rule order.
struct RuleBits {
    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    @inline(__always) mutating func insert(_ i: Int) {
        let bit = UInt64(1) << UInt64(i & 63)
        switch i >> 6 {
        case 0: words.0 |= bit
        case 1: words.1 |= bit
        case 2: words.2 |= bit
        default: words.3 |= bit
        }
    }

    /// Each member in increasing order.
    @inline(__always) func forEach(_ body: (Int) -> Void) {
        Self.visit(words.0, 0, body); Self.visit(words.1, 64, body)
        Self.visit(words.2, 128, body); Self.visit(words.3, 192, body)
    }

    @inline(__always) private static func visit(_ w: UInt64, _ base: Int, _ body: (Int) -> Void) {
        var m = w
        while m != 0 {
            body(base | m.trailingZeroBitCount)
            m &= m - 1
        }
    }
}
