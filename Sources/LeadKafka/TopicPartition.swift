import CRdKafka

/// A topic partition, the unit of assignment, ordering and state ownership.
public struct TopicPartition: Hashable, Sendable, CustomStringConvertible, Comparable {
    public var topic: String
    public var partition: Int32
    public init(_ topic: String, _ partition: Int32) { self.topic = topic; self.partition = partition }
    public var description: String { "\(topic)[\(partition)]" }
    public static func < (a: TopicPartition, b: TopicPartition) -> Bool {
        (a.topic, a.partition) < (b.topic, b.partition)
    }
}

/// Reads a librdkafka partition list into Swift values.
func topicPartitions(_ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) -> [TopicPartition] {
    guard let list else { return [] }
    var out: [TopicPartition] = []
    out.reserveCapacity(Int(list.pointee.cnt))
    for i in 0..<Int(list.pointee.cnt) {
        let e = list.pointee.elems[i]
        out.append(TopicPartition(String(cString: e.topic), e.partition))
    }
    return out
}

/// Builds a librdkafka partition list; the caller destroys it.
func makePartitionList(_ items: [(TopicPartition, Int64)]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
    let list = rd_kafka_topic_partition_list_new(Int32(max(items.count, 1)))!
    for (tp, offset) in items {
        let e = rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition)!
        e.pointee.offset = offset
    }
    return list
}

/// librdkafka's logical offsets.
public enum KafkaOffset {
    public static let beginning: Int64 = -2
    public static let end: Int64 = -1
    public static let stored: Int64 = -1000
    public static let invalid: Int64 = -1001
}
