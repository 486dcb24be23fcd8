import Foundation

/// The handful of librdkafka statistics (`statistics.interval.ms`; librdkafka's STATISTICS.md) that leadscore
/// exports: what an SRE needs to tell a slow broker, a backed-up client and a lagging group apart without a
/// separate Kafka exporter. Times are converted to seconds; totals are librdkafka's, since the client started.
public struct KafkaStatistics: Sendable, Equatable {
    /// Round-trip time of requests to one broker over the last statistics window.
    public struct Broker: Sendable, Equatable {
        /// librdkafka's broker name, e.g. `127.0.0.1:9092/1`.
        public var name: String
        public var nodeId: Int32
        /// Average and 99th percentile (seconds); only meaningful when `rttSamples > 0`.
        public var rttAverage: Double
        public var rttP99: Double
        /// Requests measured in the window (0: the broker was idle; keep the previous values).
        public var rttSamples: Int
    }

    /// One partition as this client sees it.
    public struct Partition: Sendable, Equatable {
        public var topic: String
        public var partition: Int32
        /// Consumer: high watermark − the later of the stored and the committed offset (`consumer_lag`; the
        /// daemon never stores, so: committed); nil when librdkafka reports -1 (not assigned, nothing
        /// committed yet, producer).
        public var consumerLag: Int64?
        /// Consumer: messages fetched and waiting in librdkafka's queue.
        public var fetchQueueMessages: Int
    }

    /// `producer` or `consumer` (librdkafka's `type`).
    public var client: String
    /// librdkafka's instance name, e.g. `leadscored#consumer-1`.
    public var name: String
    /// Operations (delivery reports, events) waiting for the application's poll: grows when the poll thread
    /// falls behind.
    public var replyQueue: Int
    /// Producer: messages queued locally or in flight (`msg_cnt`).
    public var queuedMessages: Int
    /// Bytes and messages sent to / received from the brokers (`tx_bytes`, `rx_bytes`, `txmsgs`, `rxmsgs`).
    public var transmittedBytes: Int64
    public var receivedBytes: Int64
    public var transmittedMessages: Int64
    public var receivedMessages: Int64
    /// Real brokers only (librdkafka's internal and logical brokers are left out).
    public var brokers: [Broker]
    /// Real partitions only (librdkafka's unassigned partition -1 is left out).
    public var partitions: [Partition]

    /// Parses librdkafka's statistics JSON; throws when it is not a JSON object with a `type`.
    public init(json: Data) throws {
        guard let root = try JSONSerialization.jsonObject(with: json) as? [String: Any],
              let type = root["type"] as? String
        else { throw KafkaError(code: -1, message: "librdkafka statistics: not a statistics object") }
        func int(_ o: [String: Any], _ k: String) -> Int64 { (o[k] as? NSNumber)?.int64Value ?? 0 }
        func seconds(_ o: [String: Any], _ k: String) -> Double { Double(int(o, k)) / 1_000_000 }
        client = type
        name = root["name"] as? String ?? ""
        replyQueue = Int(int(root, "replyq"))
        queuedMessages = Int(int(root, "msg_cnt"))
        transmittedBytes = int(root, "tx_bytes")
        receivedBytes = int(root, "rx_bytes")
        transmittedMessages = int(root, "txmsgs")
        receivedMessages = int(root, "rxmsgs")
        var brokers: [Broker] = []
        for case let b as [String: Any] in (root["brokers"] as? [String: Any] ?? [:]).values {
            let source = b["source"] as? String ?? ""
            guard source != "internal" && source != "logical", let name = b["name"] as? String else { continue }
            let rtt = b["rtt"] as? [String: Any] ?? [:]
            brokers.append(Broker(name: name, nodeId: Int32(truncatingIfNeeded: int(b, "nodeid")),
                                  rttAverage: seconds(rtt, "avg"), rttP99: seconds(rtt, "p99"), rttSamples: Int(int(rtt, "cnt"))))
        }
        self.brokers = brokers.sorted { $0.name < $1.name }
        var partitions: [Partition] = []
        for case let t as [String: Any] in (root["topics"] as? [String: Any] ?? [:]).values {
            guard let topic = t["topic"] as? String else { continue }
            for case let p as [String: Any] in (t["partitions"] as? [String: Any] ?? [:]).values {
                let id = Int32(truncatingIfNeeded: int(p, "partition"))
                guard id >= 0 else { continue }
                let lag = int(p, "consumer_lag")
                partitions.append(Partition(topic: topic, partition: id, consumerLag: lag >= 0 ? lag : nil,
                                            fetchQueueMessages: Int(int(p, "fetchq_cnt"))))
            }
        }
        self.partitions = partitions.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }
}
