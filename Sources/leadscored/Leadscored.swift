import ArgumentParser

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
}
