import Foundation
import LeadScoring

/// The daemon's effective configuration (after file, environment and flags are merged by the config loader).
public struct DaemonConfig: Sendable {
    public var bootstrapServers = "127.0.0.1:9092"
    public var groupId = "leadscore"
    public var groupInstanceId: String?
    public var clientId = "leadscored"
    /// Any librdkafka property (SASL, SSL, timeouts…), applied to every client.
    public var kafkaProperties: [String: String] = [:]
    /// `statistics.interval.ms` of the consumer and producer when `kafkaProperties` does not set it: their
    /// librdkafka statistics become `leadscore_kafka_*` metrics ("0" in the properties turns them off).
    public static let defaultStatisticsIntervalMs = 15_000
    /// The input consumer's `queued.max.messages.kbytes` when `kafkaProperties` does not set it.
    public static let defaultPrefetchKilobytes = 4096
    public var inputTopics = ["leadscore.events"]
    public var stageChangesTopic = "leadscore.stage-changes"
    public var alertsTopic = "leadscore.alerts"
    public var deadLetterTopic = "leadscore.dlq"
    /// Optional compacted topic of each contact's latest score; nil disables it.
    public var scoresTopic: String?
    /// Compacted changelog of contact state (scale-out: state follows its partition to any instance); nil keeps
    /// state in the local checkpoints only.
    public var stateTopic: String?
    /// Compacted one-partition topic of partition ownership announcements (the 409 owner hint); nil disables.
    public var ownersTopic: String?
    /// The address other instances and clients should use for this instance's HTTP API (owner hints);
    /// default: `http.host:port`, or the host name when listening on all interfaces.
    public var advertisedAddress: String?
    public var rulesPath = "rules.yaml"
    public var dataDir = "data"
    public var checkpointIntervalSeconds = 10.0
    /// `earliest` or `latest`, for partitions the group never committed.
    public var startFrom = "earliest"
    /// Rebuild partitions without a usable checkpoint from the earliest retained offset.
    public var rebuildFromEarliest = false
    public var quietUntil: EventTime?
    public var maxFutureSkew: EventDuration = TimeUnit.hour
    public var batchSize = 2000
    public var batchWaitMs = 5
    /// Processing lanes: dedicated threads scoring a batch's partitions in parallel while the poll thread
    /// polls on; 0 = one per core.
    public var processingThreads = 0
    public var httpHost = "127.0.0.1"
    public var httpPort = 9464
    public var logLevel = "info"
    /// `auto` (text on a terminal, JSON lines otherwise), `text` or `json`.
    public var logFormat = "auto"
    /// Largest dead-letter value; longer invalid messages are truncated (with a `truncated` header).
    public var maxDeadLetterBytes = 900_000

    public init() {}

    /// `processingThreads`, with 0 resolved to the number of cores (at most 8).
    public var effectiveProcessingThreads: Int {
        processingThreads > 0 ? processingThreads : min(8, max(1, ProcessInfo.processInfo.activeProcessorCount))
    }

    /// Property keys whose values are secrets (masked by `--print-config`).
    public static func isSecret(_ key: String) -> Bool {
        let k = key.lowercased()
        return ["password", "secret", "jaas", "token", "key.pem", "ssl.key", "credentials"].contains { k.contains($0) }
    }
}
