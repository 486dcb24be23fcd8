import CRdKafka
import Foundation

/// librdkafka's built-in Kafka-protocol cluster, for development and tests, with its fault injection.
///
/// Know its limits: ~5 MiB retained per partition, no CreateTopics (use `createTopic`), no compaction,
/// transactions are protocol-only.
public final class MockCluster: @unchecked Sendable {
    private let rk: OpaquePointer
    private let mc: OpaquePointer
    public let brokerCount: Int

    public init(brokers: Int = 3) throws(KafkaError) {
        let conf = try KafkaConfig(bootstrapServers: "", clientId: "leadscore-mock-host").makeConf(defaults: ["log_level": "3"])
        self.rk = try makeClient(RD_KAFKA_PRODUCER, conf: conf)
        guard let mc = rd_kafka_mock_cluster_new(rk, Int32(brokers)) else {
            rd_kafka_destroy(rk)
            throw KafkaError(code: -1, message: "cannot start the built-in Kafka cluster")
        }
        self.mc = mc
        self.brokerCount = brokers
    }

    deinit {
        rd_kafka_mock_cluster_destroy(mc)
        rd_kafka_destroy(rk)
    }

    /// Comma-separated `127.0.0.1:PORT` list.
    public var bootstrapServers: String { String(cString: rd_kafka_mock_cluster_bootstraps(mc)) }

    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) throws(KafkaError) {
        let err = rd_kafka_mock_topic_create(mc, name, Int32(partitions), Int32(min(replicationFactor, brokerCount)))
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "create topic \(name)") }
    }

    /// Broker ids are 1…brokers.
    public func setBrokerDown(_ broker: Int32) throws(KafkaError) {
        try check(rd_kafka_mock_broker_set_down(mc, broker), "broker \(broker) down")
    }

    public func setBrokerUp(_ broker: Int32) throws(KafkaError) {
        try check(rd_kafka_mock_broker_set_up(mc, broker), "broker \(broker) up")
    }

    /// Adds round-trip time to every request to `broker`.
    public func setRoundTripTime(broker: Int32, ms: Int) throws(KafkaError) {
        try check(rd_kafka_mock_broker_set_rtt(mc, broker, Int32(ms)), "broker \(broker) rtt")
    }

    /// The next `errors.count` requests of protocol type `apiKey` (0 Produce, 1 Fetch, 8 OffsetCommit…) fail
    /// with these error codes, in order, on whichever broker receives them.
    public func pushRequestErrors(apiKey: Int16, errors: [Int32]) {
        let codes = errors.map { rd_kafka_resp_err_t(rawValue: $0) }
        codes.withUnsafeBufferPointer { rd_kafka_mock_push_request_errors_array(mc, apiKey, codes.count, $0.baseAddress) }
    }

    public func setPartitionLeader(topic: String, partition: Int32, broker: Int32) throws(KafkaError) {
        try check(rd_kafka_mock_partition_set_leader(mc, topic, partition, broker), "leader \(topic)[\(partition)]")
    }

    /// Makes BROKER the coordinator of GROUP, so that a test can slow or stop other brokers without
    /// touching the group's session.
    public func setGroupCoordinator(group: String, broker: Int32) throws(KafkaError) {
        try check(rd_kafka_mock_coordinator_set(mc, "group", group, broker), "coordinator of \(group)")
    }

    private func check(_ err: rd_kafka_resp_err_t, _ what: String) throws(KafkaError) {
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: what) }
    }

    /// Kafka protocol API keys by name, for the control protocol.
    public static let apiKeys: [String: Int16] = [
        "produce": 0, "fetch": 1, "listoffsets": 2, "metadata": 3, "offsetcommit": 8, "offsetfetch": 9,
        "findcoordinator": 10, "joingroup": 11, "heartbeat": 12, "leavegroup": 13, "syncgroup": 14,
        "initproducerid": 22,
    ]
}
