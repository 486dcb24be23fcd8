import Foundation
import Yams

/// Loads a rules file (CONTRACTS §3) into the validated `Rules` model, reporting every problem with its line.
public enum RulesLoader {
    /// - Throws: `RulesError` (every problem as `FILE:LINE: message`).
    public static func load(path: String) throws -> Rules {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RulesError(problems: [RulesProblem(file: path, line: 0, message: "cannot read the rules file")])
        }
        return try parse(yaml: String(decoding: data, as: UTF8.self), file: path)
    }

    /// - Throws: `RulesError`.
    public static func parse(yaml: String, file: String) throws -> Rules {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            let p = YAMLSyntaxProblem(error, yaml: yaml)
            throw RulesError(problems: [RulesProblem(file: file, line: p.line, message: "YAML syntax: \(p.message)")])
        }
        var p = RulesParser(file: file)
        guard let root else {
            throw RulesError(problems: [RulesProblem(file: file, line: 1, message: "empty rules file (expected `version: 1` and rules)")])
        }
        let rules = p.parseRoot(root)
        if !p.problems.isEmpty || rules == nil {
            let sorted = p.problems.sorted { ($0.line, $0.message) < ($1.line, $1.message) }
            throw RulesError(problems: sorted)
        }
        return rules!
    }
}
