import Testing
@testable import LeadScoring

/// The literal prefilter never changes a search result; it only skips the regex engine.
@Suite struct PatternPrefilterTests {
    static let patterns = [
        "(?i)\\b(head|director|vp|chief|founder|ceo|cto|cmo)\\b", "@(gmail|yahoo|hotmail|outlook)\\.",
        "(?i)student|étudiant", "^/pricing", "^/docs/(api|guide)s?$", "ab?c", "a+b", "(x|yz){2}", "[a-c]+d\\.e",
        "(?:foo|bar)?baz", "colou?r", "^$", "a|", "\\d{3}-\\d{4}", "(?i)HeLLo", "x.y", "a{2,3}b", "\\bvp\\b",
        "(?i)[A-Z]+@", "q(?=u)", "\\/api\\/v[0-9]+", "(?i)gmail|YAHOO", "a(b|c)d", "(ab|cd)(ef|gh)x", "x\\.y",
        "(?:vp|c)(eo|to)", "(a|b)?c", "(a|)b", "ab(c|d)+",
    ]

    @Test func understoodPatternsGetAPrefilter() {
        #expect(PatternPrefilter("(?i)\\b(head|director|vp|chief|founder|ceo|cto|cmo)\\b")?.literals.count == 8)
        #expect(PatternPrefilter("@(gmail|yahoo|hotmail|outlook)\\.") != nil)
        #expect(PatternPrefilter("^/pricing")?.literals == [Array("/pricing".utf8)])
        #expect(PatternPrefilter("a|") == nil)
        #expect(PatternPrefilter("q(?=u)") == nil)
        #expect(PatternPrefilter("[a-z]+") == nil)
    }

    /// Patterns of only literals, groups and alternation are decided without the regex engine on ASCII texts.
    @Test func literalSetPatternsAreExact() throws {
        let generic = try #require(PatternPrefilter("@(gmail|yahoo|hotmail|outlook)\\."))
        #expect(generic.exact)
        #expect(generic.literals.count == 4)
        #expect(generic.verdict("ann@yahoo.fr") == .match)
        #expect(generic.verdict("ann@acme.io") == .noMatch)
        #expect(generic.verdict("anné@yahoo.fr") == .unknown)
        #expect(PatternPrefilter("(ab|cd)(ef|gh)x")?.literals.count == 4)
        #expect(PatternPrefilter("(a|)b")?.exact == true)   // {ab, b}: an empty branch is fine inside a sequence
        #expect(PatternPrefilter("(?i)gmail|YAHOO")?.verdict("x@Yahoo.com") == .match)
        for inexact in ["(?i)\\b(head|vp)\\b", "^/pricing", "colou?r", "(a|b)?c", "x.y", "ab(c|d)+"] {
            #expect(PatternPrefilter(inexact)?.exact != true, "\(inexact)")
        }
        #expect(try Pattern("@(gmail|yahoo)\\.").isLiteralSet)
        #expect(try !Pattern("(?i)student|étudiant").isLiteralSet)
    }

    @Test func searchResultsAreUnchanged() throws {
        var rng = SeededRandom(seed: 5)
        let alphabet = Array("abcdeqruxyzHEADvpceoVPCTO@gmail.yahoo/pricingdocsapiguide-0123456789 sfoobarbazcolorustudentÉé".utf8)
        var texts = ["Head of Growth", "VP Sales", "vice president", "x@gmail.com", "x@acme.io", "/pricing/team",
                     "/docs/apis", "/docs/api", "abc", "ac", "aab", "xyz", "xyyz", "yzyz", "baz", "foobaz", "color",
                     "colour", "", "555-1234", "HELLO", "xay", "aab", "aaab", "vp", "svp", "ABC@", "/api/v2", "Étudiant",
                     "student", "STUDENT"]
        for _ in 0..<3000 {
            let n = Int.random(in: 0..<14, using: &rng)
            var bytes: [UInt8] = []
            for _ in 0..<n { bytes.append(alphabet.randomElement(using: &rng)!) }
            texts.append(String(decoding: bytes, as: UTF8.self))
        }
        for source in Self.patterns {
            let pattern = try Pattern(source)
            let plain = try Regex(source)
            for t in texts {
                let expected = (try? plain.firstMatch(in: t)) != nil
                #expect(pattern.search(t) == expected, "\(source) on \(t)")
            }
        }
    }

    /// The eight-bytes-at-a-time search for the literals' (at most two) lead bytes finds exactly what the
    /// position-by-position search finds, at every offset of texts longer than a word.
    @Test func leadByteSearchAgreesWithThePlainSearch() throws {
        var rng = SeededRandom(seed: 11)
        let alphabet = Array("abcVvPp@gmail.yahoo-outlook0123 ".utf8)
        for source in ["@(gmail|yahoo|hotmail|outlook)\\.", "(?i)vp", "(?i)\\bvp\\b", "(ab|@c)x", "ceo|@", "(?i)@x"] {
            let f = try #require(PatternPrefilter(source), "\(source)")
            let lead = try #require(PatternPrefilter.leadWords(first: f.first, caseInsensitive: f.caseInsensitive), "\(source)")
            #expect(f.lead != nil)
            for _ in 0..<2000 {
                let n = Int.random(in: 0..<40, using: &rng)
                let text = (0..<n).map { _ in alphabet.randomElement(using: &rng)! }
                let (fast, plain) = text.withUnsafeBytes { t in
                    f.pool.withUnsafeBufferPointer { p in
                        f.ranges.withUnsafeBufferPointer { r in
                            (PatternPrefilter.containsAny(t, pool: p.baseAddress!, literals: r, first: f.first, lead: lead, caseInsensitive: f.caseInsensitive),
                             PatternPrefilter.containsAny(t, pool: p.baseAddress!, literals: r, first: f.first, lead: nil, caseInsensitive: f.caseInsensitive))
                        }
                    }
                }
                #expect(fast == plain, "\(source) on \(String(decoding: text, as: UTF8.self))")
            }
        }
        // Three or more lead bytes: no word search.
        #expect(try #require(PatternPrefilter("(?i)\\b(head|director|vp)\\b")).lead == nil)
    }
}
