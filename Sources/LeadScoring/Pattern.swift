/// A compiled regular expression from a rules file, searched (unanchored) in trait values and page paths.
///
/// Wraps Swift `Regex` so the rest of the engine does not depend on the regex engine chosen.
public struct Pattern: @unchecked Sendable {
    /// The expression as written in the rules file.
    public let source: String
    private let regex: Regex<AnyRegexOutput>
    /// Literals every match must contain (when the pattern is simple enough to tell): lets most
    /// non-matching texts skip the regex engine, and every ASCII text when the literals are the whole pattern.
    let prefilter: PatternPrefilter?

    /// The pattern is a set of plain strings (`@(gmail|yahoo)\.`): searching is a few byte comparisons,
    /// cheaper than remembering the result per value.
    public var isLiteralSet: Bool { prefilter?.exact ?? false }

    /// Throws when the expression does not compile; the message is shown to the rules author.
    public init(_ source: String) throws {
        self.source = source
        // `\b` as in the common dialects (PCRE, RE2, JavaScript, Python): a boundary between a word character
        // and anything else. Swift's default (Unicode default word boundaries) finds none in "VP.Sales" or
        // "CEO's", so `\b(vp|ceo)\b` would miss those titles.
        self.regex = try Regex(source).wordBoundaryKind(.simple)
        self.prefilter = PatternPrefilter(source)
    }

    /// True when the expression matches anywhere in `text`.
    /// Cheap (no regex engine) when `isLiteralSet` and the text is ASCII.
    public func search(_ text: String) -> Bool {
        if let prefilter {
            switch prefilter.verdict(text) {
            case .noMatch: return false
            case .match: return true
            case .unknown: break
            }
        }
        return (try? regex.firstMatch(in: text)) != nil
    }
}
