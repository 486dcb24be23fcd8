import CRdKafka

/// Cluster metadata queries the daemon needs before it joins a group.
public enum KafkaAdmin {
    /// Partition count of each topic (0 when the topic does not exist). Uses a short-lived client.
    public static func partitionCounts(config: KafkaConfig, topics: [String], timeoutMs: Int32 = 10_000) throws(KafkaError) -> [String: Int] {
        let conf = try config.makeConf(defaults: ["log_level": "3"])
        let rk = try makeClient(RD_KAFKA_CONSUMER, conf: conf)
        defer { rd_kafka_destroy(rk) }
        var md: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(rk, 1, nil, &md, timeoutMs)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let md else { throw KafkaError(err, context: "metadata from \(config.bootstrapServers)") }
        defer { rd_kafka_metadata_destroy(md) }
        var out: [String: Int] = [:]
        for t in topics { out[t] = 0 }
        for i in 0..<Int(md.pointee.topic_cnt) {
            let t = md.pointee.topics[i]
            let name = String(cString: t.topic)
            if out[name] != nil && t.err == RD_KAFKA_RESP_ERR_NO_ERROR { out[name] = Int(t.partition_cnt) }
        }
        return out
    }
}
