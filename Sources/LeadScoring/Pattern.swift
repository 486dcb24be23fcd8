/// A compiled regular expression from a rules file, searched (unanchored) in trait values and page paths.
///
/// Wraps Swift `Regex` so the rest of the engine does not depend on the regex engine chosen.
public struct Pattern: @unchecked Sendable {
    /// The expression as written in the rules file.
    public let source: String
    private let regex: Regex<AnyRegexOutput>
    /// Literals every match must contain (when the pattern is simple enough to tell): lets most
    /// non-matching texts skip the regex engine.
    let prefilter: PatternPrefilter?

    /// Throws when the expression does not compile; the message is shown to the rules author.
    public init(_ source: String) throws {
        self.source = source
        self.regex = try Regex(source)
        self.prefilter = PatternPrefilter(source)
    }

    /// True when the expression matches anywhere in `text`.
    public func search(_ text: String) -> Bool {
        if let prefilter, !prefilter.mayMatch(text) { return false }
        return (try? regex.firstMatch(in: text)) != nil
    }
}
