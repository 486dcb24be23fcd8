/// A funnel stage. The raw values give the funnel order: a contact only moves to a higher one, except
/// through `recycle` (back to `lead`) and `disqualified` (out of the funnel until requalified).
public enum Stage: Int, Sendable, Comparable, CaseIterable, Hashable {
    case lead = 0, mql, sal, sql, opportunity, customer, evangelist
    /// Outside the funnel order; never "above" anything.
    case disqualified = 100

    /// The name used in rules files and output records.
    public var name: String {
        switch self {
        case .lead: "lead"
        case .mql: "mql"
        case .sal: "sal"
        case .sql: "sql"
        case .opportunity: "opportunity"
        case .customer: "customer"
        case .evangelist: "evangelist"
        case .disqualified: "disqualified"
        }
    }

    public init?(name: String) {
        guard let s = Stage.allCases.first(where: { $0.name == name }) else { return nil }
        self = s
    }

    /// The funnel stages in order (without `disqualified`).
    public static let funnel: [Stage] = [.lead, .mql, .sal, .sql, .opportunity, .customer, .evangelist]

    public static func < (a: Stage, b: Stage) -> Bool { a.rawValue < b.rawValue }
}
