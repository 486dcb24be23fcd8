import ArgumentParser

@main
struct Leadscored: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leadscored",
        abstract: "Real-time lead scoring from Kafka.",
        subcommands: [DevBrokerCommand.self]
    )
}
