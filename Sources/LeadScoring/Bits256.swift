/// A set of numbers 0–255 on the stack (four words, no allocation). For the rules one event fires (at most
/// 255 engagement rules, `Limits`), collected before any is awarded and then visited in rule order, and for
/// the bytes that start a literal (`TraitMatcher`).
struct Bits256 {
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

    @inline(__always) var isEmpty: Bool { (words.0 | words.1 | words.2 | words.3) == 0 }

    @inline(__always) func contains(_ i: Int) -> Bool {
        let w: UInt64
        switch i >> 6 {
        case 0: w = words.0
        case 1: w = words.1
        case 2: w = words.2
        default: w = words.3
        }
        return w & (UInt64(1) << UInt64(i & 63)) != 0
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
