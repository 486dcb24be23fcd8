import Testing
@testable import LeadScoring

private func problems(_ yaml: String) -> [RulesProblem] {
    do { _ = try RulesLoader.parse(yaml: yaml, file: "r.yaml"); return [] } catch let e as RulesError { return e.problems } catch { return [] }
}

private func expectProblem(_ yaml: String, line: Int, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let ps = problems(yaml)
    #expect(ps.contains { $0.line == line && $0.message.contains(fragment) }, "got: \(ps)", sourceLocation: sourceLocation)
}

@Suite struct RulesLoaderTests {
    @Test func theContractExampleParsesToTheRightModel() throws {
        let r = Rules.example
        #expect(r.halfLife == 30 * TimeUnit.day)
        #expect(r.scoreMin == -100 && r.scoreMax == 200)
        #expect(r.dedupeWindow == 24 * TimeUnit.hour)
        #expect(r.fit.map(\.name) == ["decision-maker", "company-50-plus", "target-industry", "generic-email", "student"])
        #expect(r.fit.map(\.points) == [15, 10, 10, -10, -30])
        #expect(r.engagement.map(\.name) == ["content-download", "pricing-page", "demo-request", "email-open", "unsubscribe"])
        #expect(r.engagement[0].maxPoints == 30)
        #expect(r.engagement[1].limit == RateLimit(count: 3, per: TimeUnit.day))
        #expect(r.engagement.map(\.highIntent) == [false, true, true, false, false])
        #expect(Set(r.stages.enter.keys) == [.mql, .sal, .sql, .opportunity, .customer, .evangelist])
        #expect(r.stages.recycle?.below == 25 && r.stages.recycle?.from == [.mql])
        #expect(r.stages.disqualify?.until != nil)
        #expect(r.grades.fitA == 30 && r.grades.fitB == 15 && r.grades.engagement1 == 60 && r.grades.engagement2 == 30)
        #expect(r.alerts.onStages == [.sql])
        #expect(r.alerts.onIntent?.minStage == .mql && r.alerts.onIntent?.suppressFor == 24 * TimeUnit.hour)
        guard case .all(let parts)? = r.stages.enter[.sql], case .count(let rule, let range, let within) = parts[1] else {
            Issue.record("sql condition shape"); return
        }
        #expect(rule == 2 && range.gte == 1 && within == 30 * TimeUnit.day)
        guard case .trait("employees", .range(let nr)) = r.fit[1].when else { Issue.record("employees shape"); return }
        #expect(nr.gte == 50)
    }

    @Test func versionIsStableAcrossLayoutButFollowsContent() throws {
        let a = try RulesLoader.parse(yaml: Rules.exampleYAML, file: "a")
        let relaid = "# comment\n" + Rules.exampleYAML.replacingOccurrences(of: "version: 1\n", with: "") + "\nversion: 1   # moved\n"
        let b = try RulesLoader.parse(yaml: relaid, file: "b")
        #expect(a.version == b.version)
        #expect(a.version.count == 16)
        let changed = try RulesLoader.parse(yaml: Rules.exampleYAML.replacingOccurrences(of: "points: 15", with: "points: 16"), file: "c")
        #expect(changed.version != a.version)
    }

    @Test func eachValidationErrorHasItsLine() {
        expectProblem("version: 1\nfit:\n  - name: a\n    when: { trait: t, eq: 1 }\n    points: 1\n    bogus: 2\n", line: 6, "unknown key 'bogus'")
        expectProblem("version: 1\nfit:\n  - name: a\n    when: { trait: t, eq: 1 }\n    points: lots\n", line: 5, "must be a number")
        expectProblem("version: 1\nengagement:\n  - name: p\n    when: { page: \"([a\" }\n    points: 1\n", line: 4, "bad regular expression")
        expectProblem("version: 1\ndecay:\n  half_life: 30x\n", line: 3, "bad duration")
        expectProblem("version: 1\ndecay:\n  half_life: 0d\n", line: 3, "greater than 0")
        expectProblem("version: 1\nengagement:\n  - name: a\n    when: { event: A }\n    points: 1\nstages:\n  sql:\n    when: { count: { rule: nope, gte: 1, within: 1d } }\n", line: 8, "unknown engagement rule 'nope'")
        expectProblem("version: 1\nfit:\n  - name: a\n    when: { trait: t, exists: true }\n    points: 1\nengagement:\n  - name: a\n    when: { event: A }\n    points: 1\n", line: 7, "duplicate rule name 'a'")
        expectProblem("version: 1\nstages:\n  hot:\n    when: { score: { gte: 1 } }\n", line: 3, "unknown stage 'hot'")
        expectProblem("version: 1\nalerts:\n  hot_lead:\n    on_stages: [sqlx]\n", line: 4, "unknown stage 'sqlx'")
        expectProblem("version: 1\ngrades:\n  fit: { A: 30 }\n  engagement: { 1: 60, 2: 30 }\n", line: 3, "exactly the keys A, B")
        expectProblem("version: 1\nengagement:\n  - name: a\n    when: { event: A }\n    points: 1\n    limit: { count: 0, per: 1d }\n", line: 6, "at least 1")
        expectProblem("version: 2\n", line: 1, "unsupported version")
        expectProblem("fit: []\n", line: 1, "missing `version: 1`")
        expectProblem("version: 1\nfit:\n  - name: a\n    when: { trait: t, event: X }\n    points: 1\n", line: 4, "several kinds")
        expectProblem("version: 1\nfit: [ {name: a, when: {trait: t, eq: 1}, points: 1\n", line: 3, "YAML syntax")
        // A repeated key: one line, at the repeat (Yams points at the first one and prints the whole file).
        let dup = "version: 1\nstages:\n  mql:\n    when: { score: { gte: 50 } }\n  # the same again\n\n  mql:\n    when: { score: { gte: 60 } }\n"
        expectProblem(dup, line: 7, "YAML syntax: duplicate key \"mql\" (first at line 3)")
        #expect(problems(dup).count == 1 && !problems(dup)[0].message.contains("\n"))
        expectProblem("version: 1\nfit:\n  - name: a\n    when: { trait: t, exists: true }\n    points: 1\n    name: b\n", line: 6, "duplicate key \"name\"")
        expectProblem("version: 1\ndecay: { half_life: 1d, half_life: 2d }\n", line: 2, "duplicate key \"half_life\"")
    }

    @Test func allProblemsAreReportedAtOnce() {
        let ps = problems("version: 1\ndecay:\n  half_life: -3d\nfit:\n  - name: a\n    when: { trait: t, matches: \"(\" }\n    points: x\nstages:\n  lead:\n    when: { score: { gte: 1 } }\n")
        #expect(ps.count >= 4, "\(ps)")
        #expect(ps.map(\.line) == ps.map(\.line).sorted())
        #expect(ps.allSatisfy { $0.description.hasPrefix("r.yaml:\($0.line): ") })
    }

    @Test func gradesAcceptQuotedOrIntegerKeysAndTraitValuesKeepTheirType() throws {
        let r = try RulesLoader.parse(yaml: "version: 1\ngrades:\n  fit: { A: 20, B: 10 }\n  engagement: { \"1\": 50, 2: 25 }\nfit:\n  - name: n\n    when: { trait: employees, eq: \"120\" }\n    points: 1\n", file: "g")
        #expect(r.grades.engagement1 == 50 && r.grades.engagement2 == 25)
        guard case .trait(_, .eq(let v)) = r.fit[0].when else { Issue.record("shape"); return }
        #expect(v == .string("120"))
    }
}
