import ArgumentParser
import Foundation
import LeadScoring

/// `leadscored validate-rules R`: exit 0 and a one-line summary, or exit 1 and every problem as FILE:LINE: message.
struct ValidateRulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate-rules",
        abstract: "Check a rules file; print a summary, or every problem as FILE:LINE: message."
    )

    @Argument(help: "The rules file (YAML, version 1).") var rules: String

    func run() throws {
        do {
            let r = try RulesLoader.load(path: rules)
            let stages = r.stages.enter.count + (r.stages.disqualify == nil ? 0 : 1) + (r.stages.recycle == nil ? 0 : 1)
            print("\(rules): ok — \(r.fit.count) fit rules, \(r.engagement.count) engagement rules, \(stages) stage rules, rules_version \(r.version)")
        } catch let e as RulesError {
            print(e.description)
            throw ExitCode(1)
        }
    }
}
