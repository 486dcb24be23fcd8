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
