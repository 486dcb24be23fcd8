/// A compiled regular expression from a rules file, searched (unanchored) in trait values and page paths.
///
/// Wraps Swift `Regex` so the rest of the engine does not depend on the regex engine chosen.
public struct Pattern: @unchecked Sendable {
    /// The expression as written in the rules file.
    public let source: String
    private let regex: Regex<AnyRegexOutput>

    /// Throws when the expression does not compile; the message is shown to the rules author.
    public init(_ source: String) throws {
        self.source = source
        self.regex = try Regex(source)
    }

    /// True when the expression matches anywhere in `text`.
    public func search(_ text: String) -> Bool {
        (try? regex.firstMatch(in: text)) != nil
    }
}
