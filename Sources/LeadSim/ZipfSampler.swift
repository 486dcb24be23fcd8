import Foundation

/// Draws ranks 0..<n with probability ∝ 1/(rank+1)^s: a few contacts are very active, most are not.
public struct ZipfSampler: Sendable {
    private let cdf: [Double]

    public init(n: Int, exponent s: Double = 1.1) {
        precondition(n > 0)
        var acc = 0.0
        var c = [Double](repeating: 0, count: n)
        for i in 0..<n { acc += 1 / pow(Double(i + 1), s); c[i] = acc }
        for i in 0..<n { c[i] /= acc }
        cdf = c
    }

    /// The rank for a uniform draw `u` in [0, 1).
    public func sample(_ u: Double) -> Int {
        var lo = 0, hi = cdf.count - 1
        while lo < hi { let mid = (lo + hi) / 2; if cdf[mid] < u { lo = mid + 1 } else { hi = mid } }
        return lo
    }
}
