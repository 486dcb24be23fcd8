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

    /// Creates a topic with the given configuration (e.g. `cleanup.policy=compact`). An existing topic is not
    /// an error. Throws librdkafka's or the broker's error, e.g. when the broker does not implement CreateTopics.
    public static func createTopic(config: KafkaConfig, name: String, partitions: Int, replicationFactor: Int = -1,
                                   settings: [String: String] = [:], timeoutMs: Int32 = 10_000) throws(KafkaError) {
        let conf = try config.makeConf(defaults: ["log_level": "3"])
        let rk = try makeClient(RD_KAFKA_PRODUCER, conf: conf)
        defer { rd_kafka_destroy(rk) }
        var errbuf = [CChar](repeating: 0, count: 512)
        guard let topic = rd_kafka_NewTopic_new(name, Int32(partitions), Int32(replicationFactor), &errbuf, errbuf.count) else {
            throw KafkaError(code: -1, message: "topic \(name): \(stringFromBuffer(errbuf))")
        }
        defer { rd_kafka_NewTopic_destroy(topic) }
        for (k, v) in settings.sorted(by: { $0.key < $1.key }) {
            let err = rd_kafka_NewTopic_set_config(topic, k, v)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "topic \(name) setting \(k)=\(v)") }
        }
        let queue = rd_kafka_queue_new(rk)
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        _ = rd_kafka_AdminOptions_set_request_timeout(options, timeoutMs, &errbuf, errbuf.count)
        _ = rd_kafka_AdminOptions_set_operation_timeout(options, timeoutMs / 2, &errbuf, errbuf.count)
        var topics: [OpaquePointer?] = [topic]
        rd_kafka_CreateTopics(rk, &topics, 1, options, queue)
        guard let event = rd_kafka_queue_poll(queue, timeoutMs + 1_000) else {
            throw KafkaError(code: RD_KAFKA_RESP_ERR__TIMED_OUT.rawValue, message: "CreateTopics \(name): no answer")
        }
        defer { rd_kafka_event_destroy(event) }
        let eerr = rd_kafka_event_error(event)
        if eerr != RD_KAFKA_RESP_ERR_NO_ERROR {
            let text = rd_kafka_event_error_string(event).map { String(cString: $0) } ?? ""
            throw KafkaError(code: eerr.rawValue, message: "CreateTopics \(name): \(text)")
        }
        guard let result = rd_kafka_event_CreateTopics_result(event) else { return }
        var count = 0
        guard let results = rd_kafka_CreateTopics_result_topics(result, &count), count > 0, let r = results[0] else { return }
        let terr = rd_kafka_topic_result_error(r)
        if terr != RD_KAFKA_RESP_ERR_NO_ERROR && terr != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS {
            let text = rd_kafka_topic_result_error_string(r).map { String(cString: $0) } ?? ""
            throw KafkaError(code: terr.rawValue, message: "CreateTopics \(name): \(text)")
        }
    }
}
