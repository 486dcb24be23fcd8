import ArgumentParser
import LeadOps

/// The `run` flags (CONTRACTS §1); each overrides the config file and `LEADSCORE_*` environment variables.
struct RunOptions: ParsableArguments {
    @Option(help: "Kafka bootstrap servers.") var bootstrapServers: String?
    @Option(help: "Consumer group id.") var groupId: String?
    @Option(help: "Static membership id (group.instance.id).") var groupInstanceId: String?
    @Option(name: .customLong("input-topic"), help: "Input topic (repeatable).") var inputTopics: [String] = []
    @Option(help: "Rules file.") var rules: String?
    @Option(help: "Directory for checkpoints.") var dataDir: String?
    @Option(help: "HTTP listen address.") var httpHost: String?
    @Option(help: "HTTP port (0: any free port, logged).") var httpPort: Int?
    @Option(help: "trace, debug, info, notice, warning, error, critical.") var logLevel: String?
    @Option(help: "auto, text or json.") var logFormat: String?
    @Option(help: "earliest or latest: where a group without committed offsets starts.") var startFrom: String?
    @Option(help: "Events with event time before this (ISO-8601) update state but publish no alerts (backfills).") var quietUntil: String?
    @Option(help: "Checkpoint interval, e.g. 10s.") var checkpointInterval: String?
    @Option(help: "earliest: rebuild partitions without usable checkpoint from the earliest retained offset.") var rebuildFrom: String?
    @Option(help: "Compacted state changelog topic (scale-out: state follows its partition to any instance).") var stateTopic: String?
    @Option(help: "Compacted one-partition topic of partition owners (409 owner hints).") var ownersTopic: String?
    @Option(help: "HTTP address announced to other instances (default: host:port).") var advertise: String?
    @Option(help: "Threads scoring a batch's partitions in parallel (0: one per core).") var processingThreads: Int?
    @Option(name: .customLong("kafka-property"), help: "Any librdkafka property KEY=VALUE (repeatable).") var kafkaProperties: [String] = []

    func validate() throws {
        for p in kafkaProperties where !p.contains("=") { throw ValidationError("--kafka-property \(p): expected KEY=VALUE") }
    }

    var overrides: ConfigOverrides {
        var o = ConfigOverrides()
        o.bootstrapServers = bootstrapServers; o.groupId = groupId; o.groupInstanceId = groupInstanceId
        o.inputTopics = inputTopics; o.rules = rules; o.dataDir = dataDir; o.httpHost = httpHost; o.httpPort = httpPort
        o.logLevel = logLevel; o.logFormat = logFormat; o.startFrom = startFrom; o.quietUntil = quietUntil
        o.checkpointInterval = checkpointInterval; o.rebuildFrom = rebuildFrom
        o.stateTopic = stateTopic; o.ownersTopic = ownersTopic; o.advertise = advertise
        o.processingThreads = processingThreads
        for p in kafkaProperties {
            let i = p.firstIndex(of: "=")!
            o.kafkaProperties[String(p[..<i])] = String(p[p.index(after: i)...])
        }
        return o
    }
}
