import Foundation
import Yams

/// A YAML error from Yams as one `LINE: message` problem, for the rules file and the daemon's config file.
///
/// Why: Yams' descriptions span several lines (a duplicated key even prints the whole document back), and its
/// duplicate-key error points at the key's *first* occurrence; an operator needs the one line to fix.
public struct YAMLSyntaxProblem: Sendable {
    /// 1-based line of the problem.
    public let line: Int
    /// One line, no file or line prefix.
    public let message: String

    public init(_ error: any Error, yaml: String) {
        guard let e = error as? YamlError else { line = 1; message = Self.oneLine("\(error)"); return }
        switch e {
        case .scanner(let c, let p, let m, _), .parser(let c, let p, let m, _), .composer(let c, let p, let m, _):
            line = max(1, m.line)
            message = Self.oneLine([c?.text, p].compactMap { $0 }.joined(separator: " "))
        case .duplicatedKeysInMapping(let keys, let context):
            // `context.mark` is where the first of `keys` (in Yams' order) first occurs.
            let first = context.mark
            let key = keys.first ?? "?"
            let others = keys.dropFirst().map { "\"\($0)\"" }
            line = Self.repeatLine(of: key, after: first, in: yaml) ?? max(1, first.line)
            message = "duplicate key \"\(key)\" (first at line \(first.line))"
                + (others.isEmpty ? "" : "; also repeated in this mapping: " + others.joined(separator: ", "))
        default:
            line = 1
            message = Self.oneLine("\(e)")
        }
    }

    /// The first line after `first` (a block mapping key's mark) that starts the same key at the same column.
    static func repeatLine(of key: String, after first: Mark, in yaml: String) -> Int? {
        let column = first.column - 1
        guard column >= 0 else { return nil }
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        var n = first.line   // 1-based: lines[n] is the line after the first occurrence
        while n < lines.count {
            let text = lines[n]
            n += 1
            let indent = text.prefix { $0 == " " }.count
            if text.dropFirst(indent).isEmpty || text.dropFirst(indent).hasPrefix("#") { continue }
            if indent < column { return nil }   // the mapping ended
            guard indent == column else { continue }
            let rest = text.dropFirst(indent)
            for spelled in [key, "\"\(key)\"", "'\(key)'"] where rest.hasPrefix(spelled) {
                if rest.dropFirst(spelled.count).drop(while: { $0 == " " }).hasPrefix(":") { return n }
            }
        }
        return nil
    }

    private static func oneLine(_ s: String) -> String {
        s.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            .joined(separator: " ")
    }
}
