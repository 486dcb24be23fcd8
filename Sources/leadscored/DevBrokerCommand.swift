import ArgumentParser
import Foundation
import LeadKafka

/// `leadscored dev-broker`: hosts librdkafka's built-in Kafka-protocol cluster for development and tests.
struct DevBrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-broker",
        abstract: "Host librdkafka's built-in Kafka cluster on 127.0.0.1 (development and tests).",
        discussion: "Prints the bootstrap list on stdout. Fault injection: see docs/dev-broker.md."
    )

    @Option(help: "Number of brokers.") var brokers: Int = 3
    @Option(name: .customLong("topic"), help: "Create a topic: NAME:PARTITIONS (repeatable).") var topics: [String] = []
    @Option(help: "Also write the bootstrap list into this file.") var bootstrapFile: String?
    @Option(help: "UNIX socket for fault-injection commands (default: BOOTSTRAP_FILE.ctl, else /tmp/leadscore-dev-broker-PID.ctl).")
    var controlSocket: String?

    func validate() throws {
        guard brokers >= 1 else { throw ValidationError("--brokers must be at least 1") }
        for t in topics where parseTopic(t) == nil {
            throw ValidationError("--topic \(t): expected NAME:PARTITIONS with PARTITIONS ≥ 1")
        }
    }

    func run() async throws {
        let cluster: MockCluster
        do {
            cluster = try MockCluster(brokers: brokers)
            for t in topics { let (n, p) = parseTopic(t)!; try cluster.createTopic(n, partitions: p) }
        } catch {
            stderr("dev-broker: \(error)")
            throw ExitCode(2)
        }
        let socketPath = controlSocket ?? bootstrapFile.map { $0 + ".ctl" } ?? "/tmp/leadscore-dev-broker-\(getpid()).ctl"
        let control = DevBrokerControl(cluster: cluster, socketPath: socketPath)
        do { try control.start() } catch {
            stderr("dev-broker: \(error)")
            throw ExitCode(2)
        }
        let bootstrap = cluster.bootstrapServers
        if let bootstrapFile {
            // Write then rename so a reader never sees a half-written file.
            let tmp = bootstrapFile + ".tmp"
            try Data((bootstrap + "\n").utf8).write(to: URL(fileURLWithPath: tmp))
            _ = rename(tmp, bootstrapFile)
        }
        stderr("dev-broker: \(brokers) broker(s) at \(bootstrap); control socket \(socketPath)")
        FileHandle.standardOutput.write(Data((bootstrap + "\n").utf8))
        _ = await SignalWaiter.wait()
        control.stop()
        if let bootstrapFile { unlink(bootstrapFile) }
        withExtendedLifetime(cluster) {}
    }

    private func parseTopic(_ s: String) -> (String, Int)? {
        guard let i = s.lastIndex(of: ":"), let p = Int(s[s.index(after: i)...]), p >= 1, i != s.startIndex else { return nil }
        return (String(s[..<i]), p)
    }
}
