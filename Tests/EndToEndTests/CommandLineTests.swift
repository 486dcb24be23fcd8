import Foundation
import Testing

/// Exit codes and messages of the commands a user meets first (CONTRACTS §1: 0 ok, 1 bad input, 2 runtime).
@Suite struct CommandLineTests {
    let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    func temp(_ text: String, _ ext: String = "yaml") throws -> String {
        let p = NSTemporaryDirectory() + "leadscore-cli-\(UUID().uuidString).\(ext)"
        try text.write(toFile: p, atomically: true, encoding: .utf8)
        return p
    }

    @Test func validateRulesSummarizesOrListsEveryProblem() throws {
        let (ok, out, _) = try runToEnd(leadscoredBinary(), ["validate-rules", repo + "/examples/rules.yaml"])
        #expect(ok == 0)
        #expect(out.contains("ok") && out.contains("rules_version"))
        #expect(out.split(separator: "\n").count == 1)
        let bad = try temp("version: 1\nfit:\n  - name: a\n    when: { trait: t, matches: \"(\" }\n    points: x\n")
        let (status, text, _) = try runToEnd(leadscoredBinary(), ["validate-rules", bad])
        #expect(status == 1)
        #expect(text.contains("\(bad):4: bad regular expression"))
        #expect(text.contains("\(bad):5: points must be a number"))
    }

    @Test func runRefusesBadRulesAndBadConfigWithExitOne() throws {
        let bad = try temp("version: 1\ndecay:\n  half_life: soon\n")
        let (s1, _, e1) = try runToEnd(leadscoredBinary(), ["run", "--rules", bad, "--bootstrap-servers", "127.0.0.1:1", "--http-port", "0"])
        #expect(s1 == 1)
        #expect(e1.contains("\(bad):3: decay.half_life: bad duration"))
        let cfg = try temp("http:\n  port: 99999\n")
        let (s2, _, e2) = try runToEnd(leadscoredBinary(), ["run", "--config", cfg])
        #expect(s2 == 1)
        #expect(e2.contains("\(cfg):2: http.port"))
    }

    /// A bad command line is bad input: exit 1 (ArgumentParser's own code would be 64), with the usage.
    @Test func usageErrorsExitOneAndHelpExitsZero() throws {
        let rules = repo + "/examples/rules.yaml", events = repo + "/examples/events.jsonl"
        for args in [["run", "--no-such-flag"], ["no-such-command"], ["run", "--http-port", "abc"],
                     ["replay", "--rules", rules, "--events", events, "--partitions", "0"],
                     ["replay", "--events", events], ["validate-rules"]] {
            let (status, _, err) = try runToEnd(leadscoredBinary(), args)
            #expect(status == 1, "\(args)")
            #expect(err.contains("Error:") && err.contains("Usage:"), "\(args): \(err)")
        }
        // A mistyped flag is named, even when what it misspells is then missing.
        let (typo, _, typoErr) = try runToEnd(leadscoredBinary(), ["replay", "--rules", rules, "--event", events])
        #expect(typo == 1)
        #expect(typoErr.contains("Unknown option '--event'"), "\(typoErr)")
        let (status, out, _) = try runToEnd(leadscoredBinary(), ["replay", "--help"])
        #expect(status == 0)
        #expect(out.contains("--partitions"))
    }

    @Test func replayRunsOnTheShippedExamplesAndIsDeterministic() throws {
        let args = ["replay", "--rules", repo + "/examples/rules.yaml", "--events", repo + "/examples/events.jsonl", "--partitions", "3"]
        let (s1, out1, _) = try runToEnd(leadscoredBinary(), args)
        let (s2, out2, _) = try runToEnd(leadscoredBinary(), args)
        #expect(s1 == 0 && s2 == 0)
        #expect(out1 == out2)
        #expect(out1.split(separator: "\n").count > 5)
        let (s3, _, report) = try runToEnd(leadscoredBinary(), args + ["--report"])
        #expect(s3 == 0)
        #expect(report.lowercased().contains("mql"))
    }
}
