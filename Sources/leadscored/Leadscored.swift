import ArgumentParser
import Foundation

/// The one executable: daemon, development broker, offline replay, rules validation, load harness and demo.
@main
struct Leadscored: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leadscored",
        abstract: "Real-time lead scoring from Kafka.",
        // One subcommand per line (keeps parallel additions conflict-free).
        subcommands: [
            RunCommand.self,
            DevBrokerCommand.self,
            ReplayCommand.self,
            GenerateCommand.self,
            BenchCommand.self,
            BenchKafkaCommand.self,
            BenchEngineCommand.self,
            BenchCheckpointCommand.self,
            DemoCommand.self,
            ValidateRulesCommand.self,
        ]
    )

    /// ArgumentParser's own entry point, except for its exit code of a usage error (an unknown flag, a bad or
    /// missing value, a failed `validate()`): 64 (EX_USAGE) there, 1 here — CONTRACTS §1 has three codes, and
    /// a bad command line is bad input. Help and version still exit 0; commands' own codes pass through.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                stderr(fullMessage(for: error))
                Foundation.exit(ExitCode.failure.rawValue)
            }
            exit(withError: error)
        }
    }
}
