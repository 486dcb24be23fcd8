import Testing
@testable import LeadScoring

@Test func patternSearchIsUnanchoredAndHonoursCaseFlag() throws {
    let p = try Pattern("(?i)\\b(head|director|vp|chief|founder|ceo|cto|cmo)\\b")
    #expect(p.search("VP of Sales"))
    #expect(p.search("Head of Growth"))
    #expect(!p.search("Developer"))
    #expect(try Pattern("^/pricing").search("/pricing/team"))
    #expect(!(try Pattern("^/pricing").search("/docs/pricing")))
    #expect(try Pattern("(?i)student|étudiant").search("Étudiant en master"))
}

/// `\b` is the common dialects' word boundary (word character next to a non-word character), not Unicode's
/// default word boundaries, under which "VP.Sales" and "CEO's" are single words.
@Test func wordBoundaryIsTheCommonDialects() throws {
    let p = try Pattern("(?i)\\b(head|vp|ceo)\\b")
    for title in ["VP.Sales", "CEO's office", "Head-of-Sales", "vp, sales", "(CEO)", "Chief/VP"] {
        #expect(p.search(title), "\(title)")
    }
    for title in ["VPN admin", "Overhead", "ceo1", "Headcount planner", "vp_sales"] {
        #expect(!p.search(title), "\(title)")
    }
    // Letters beyond ASCII are word characters: no boundary inside "étudiant", one around it.
    #expect(try Pattern("\\bétudiant\\b").search("un étudiant."))
    #expect(!(try Pattern("\\btudiant").search("étudiant")))
}
