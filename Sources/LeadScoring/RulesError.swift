/// One problem in a rules file, located for its author.
public struct RulesProblem: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var message: String
    public init(file: String, line: Int, message: String) { self.file = file; self.line = line; self.message = message }
    /// `FILE:LINE: message`, the format editors and CI logs link to.
    public var description: String { "\(file):\(line): \(message)" }
}

/// Every problem found in a rules file (not just the first), in line order.
public struct RulesError: Error, Sendable, CustomStringConvertible {
    public var problems: [RulesProblem]
    public init(problems: [RulesProblem]) { self.problems = problems }
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
