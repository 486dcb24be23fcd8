import CRdKafka
import Dispatch
import Foundation
import Logging
import Atomics
import Synchronization

/// What a consumer's owner is told. Every method runs on the consumer's dedicated poll thread, so an
/// implementation may block it (backpressure, waiting for in-flight work before a revoke completes) but must
/// never block Swift's cooperative pool waiting for the poll thread.
public protocol KafkaConsumerDelegate: AnyObject, Sendable {
    /// A batch of messages (up to `batchSize`, or what arrived within `batchWaitMs`). Blocking here pauses polling.
    func consumer(_ consumer: KafkaConsumer, received batch: MessageBatch)
    /// Partitions are being taken away. Runs BEFORE the revoke completes: finish work, checkpoint and commit
    /// for them before returning. `lost`: the group already reassigned them — do not commit.
    func consumer(_ consumer: KafkaConsumer, revoking partitions: [TopicPartition], lost: Bool)
    /// Partitions were assigned; runs before their first message. Return start offsets for the partitions
    /// that should not resume from the committed offset (e.g. from a checkpoint).
    func consumer(_ consumer: KafkaConsumer, assigned partitions: [TopicPartition]) -> [TopicPartition: Int64]
    /// A consumer-level error event (offset out of range, broker transport failures, …).
    func consumer(_ consumer: KafkaConsumer, error: KafkaError)
    /// Called on the poll thread when a poll returned nothing (about every 100 ms while idle): time-driven work
    /// such as periodic checkpoints happens here when no batches arrive.
    func consumerIdle(_ consumer: KafkaConsumer)
}

extension KafkaConsumerDelegate {
    public func consumerIdle(_ consumer: KafkaConsumer) {}
}

/// Tuning of the consumer's hand-over to the caller.
public struct ConsumerOptions: Sendable {
    public var groupId: String
    /// Maximum messages per batch.
    public var batchSize: Int = 2000
    /// Maximum time spent filling a batch once its first message arrived.
    public var batchWaitMs: Int = 5
    /// `earliest` or `latest`: where a group without committed offsets starts.
    public var autoOffsetReset: String = "earliest"
    /// `cooperative-sticky` keeps partitions in place during rebalances; `range`/`roundrobin` are eager.
    public var assignmentStrategy: String = "cooperative-sticky"
    /// Static membership (`group.instance.id`).
    public var groupInstanceId: String?
    public var autoCommitIntervalMs: Int = 5000
    /// When set, the consumer reads exactly these partitions from these offsets without joining a group
    /// (no rebalances, no join delay): for tools that read whole topics, like the bench's output watcher.
    public var manualAssignment: [TopicPartition: Int64]?
    public init(groupId: String) { self.groupId = groupId }
}

/// A consumer-group member with a dedicated poll thread handing batches to a delegate.
///
/// Offsets are stored manually (`enable.auto.offset.store=false`): only what the caller declares durable is
/// committed, periodically by librdkafka and explicitly through `commit()`.
public final class KafkaConsumer: @unchecked Sendable {
    private let rk: OpaquePointer
    private let box: CallbackBox
    private let options: ConsumerOptions
    private let topics: [String]
    private let stopping = ManagedAtomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private var started = false
    private let state = Mutex<Set<TopicPartition>>([])
    /// `queued.max.messages.kbytes` in bytes, as configured.
    private let queueBytes: Int
    private var waker: FetchWaker?
    let logger = Logger(label: "leadscore.consumer")

    public init(config: KafkaConfig, topics: [String], options: ConsumerOptions, delegate: any KafkaConsumerDelegate) throws(KafkaError) {
        var defaults: [String: String] = [
            "group.id": options.groupId,
            "enable.auto.offset.store": "false",
            "enable.auto.commit": "true",
            "auto.commit.interval.ms": String(options.autoCommitIntervalMs),
            "auto.offset.reset": options.autoOffsetReset,
            "partition.assignment.strategy": options.assignmentStrategy,
            "enable.partition.eof": "false",
            // librdkafka 2.0.2 compares this with the length of the queue a partition's fetch queue is
            // forwarded to — the consumer queue shared by ALL partitions — and backs the partition off for
            // fetch.error.backoff.ms (500 ms) when it is exceeded: with 100 000 and a few dozen busy
            // partitions, fetching paused every ~100 k messages (measured: 363 k events drained in bursts
            // with 0.5 s gaps, 120 k/s, instead of 280 k/s without gaps). Memory stays bounded by
            // queued.max.messages.kbytes.
            "queued.min.messages": "1000000",
            "fetch.wait.max.ms": "20",
        ]
        if let gi = options.groupInstanceId { defaults["group.instance.id"] = gi }
        let conf = try config.makeConf(defaults: defaults)
        queueBytes = (confValue(conf, "queued.max.messages.kbytes").flatMap { Int($0) } ?? 65_536) * 1024
        let box = CallbackBox(delegate: delegate)
        box.statistics = StatisticsRelay.install(on: conf, handler: config.onStatistics)
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(box).toOpaque())
        rd_kafka_conf_set_rebalance_cb(conf, consumerRebalanceCallback)
        rd_kafka_conf_set_error_cb(conf, consumerErrorCallback)
        self.rk = try makeClient(RD_KAFKA_CONSUMER, conf: conf)
        self.box = box
        self.options = options
        self.topics = topics
        box.consumer = self
        rd_kafka_poll_set_consumer(rk)
    }

    /// Subscribes and starts the poll thread.
    public func start() throws(KafkaError) {
        precondition(!started, "start() called twice")
        if let manual = options.manualAssignment {
            let list = makePartitionList(manual.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = rd_kafka_assign(rk, list)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "assign \(manual.keys.sorted())") }
            state.withLock { $0 = Set(manual.keys) }
        } else {
            let list = makePartitionList(topics.map { (TopicPartition($0, RD_KAFKA_PARTITION_UA), 0) })
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = rd_kafka_subscribe(rk, list)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "subscribe \(topics)") }
        }
        started = true
        if FetchWaker.needed {
            waker = FetchWaker(rk: rk, queueBytes: queueBytes) { [unowned self] in Array(assignment) }
        }
        let thread = Thread { [self] in pollLoop() }
        thread.name = "leadscore-consumer-poll"
        thread.start()
    }

    /// How many times the fetch waker has woken librdkafka's broker threads (0 when not needed).
    public var fetchWakes: Int { waker?.wakes.load(ordering: .relaxed) ?? 0 }
    /// The partitions the fetch waker's last request named (one per leader broker).
    var fetchWakePartitions: Int { waker?.lastWakePartitions.load(ordering: .relaxed) ?? 0 }

    /// The partitions currently assigned to this member.
    public var assignment: Set<TopicPartition> { state.withLock { $0 } }

    private func pollLoop() {
        var raws: [UnsafeMutablePointer<rd_kafka_message_t>] = []
        raws.reserveCapacity(options.batchSize)
        while !stopping.load(ordering: .relaxed) {
            guard let first = rd_kafka_consumer_poll(rk, 100) else { box.delegate.consumerIdle(self); continue }
            if !accept(first, into: &raws) { continue }
            let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(options.batchWaitMs) * 1_000_000
            while raws.count < options.batchSize {
                var m = rd_kafka_consumer_poll(rk, 0)
                if m == nil {
                    let now = DispatchTime.now().uptimeNanoseconds
                    if now >= deadline { break }
                    m = rd_kafka_consumer_poll(rk, Int32(max(1, (deadline - now) / 1_000_000)))
                    if m == nil { break }
                }
                _ = accept(m!, into: &raws)
            }
            if raws.isEmpty { continue }
            if let waker {
                var bytes = 0
                for m in raws { bytes &+= m.pointee.len }
                waker.drained(bytes)
            }
            let batch = MessageBatch(raws)
            raws.removeAll(keepingCapacity: true)
            box.delegate.consumer(self, received: batch)
        }
        waker?.stop()
        // Leaving the group runs the revoke callback on this thread, so the owner checkpoints and commits.
        let err = rd_kafka_consumer_close(rk)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            logger.warning("consumer close: \(String(cString: rd_kafka_err2str(err)))")
        }
        finished.signal()
    }

    /// Keeps a message or turns an error event into a delegate call. Returns whether it was kept.
    private func accept(_ m: UnsafeMutablePointer<rd_kafka_message_t>, into raws: inout [UnsafeMutablePointer<rd_kafka_message_t>]) -> Bool {
        let err = m.pointee.err
        if err == RD_KAFKA_RESP_ERR_NO_ERROR { raws.append(m); return true }
        defer { rd_kafka_message_destroy(m) }
        if err == RD_KAFKA_RESP_ERR__PARTITION_EOF { return false }
        var text = String(cString: rd_kafka_err2str(err))
        if let p = m.pointee.payload { text = String(decoding: UnsafeRawBufferPointer(start: p, count: m.pointee.len), as: UTF8.self) }
        let where_ = m.pointee.rkt.map { "\(String(cString: rd_kafka_topic_name($0)))[\(m.pointee.partition)] offset \(m.pointee.offset): " } ?? ""
        box.delegate.consumer(self, error: KafkaError(code: err.rawValue, message: where_ + text))
        return false
    }

    /// Marks everything before `nextOffset` as done for `partition` (stores `nextOffset`, the next to read).
    public func storeOffset(_ partition: TopicPartition, nextOffset: Int64) throws(KafkaError) {
        let list = makePartitionList([(partition, nextOffset)])
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_offsets_store(rk, list)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "store offset \(partition)@\(nextOffset)") }
        let perr = list.pointee.elems[0].err
        if perr != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(perr, context: "store offset \(partition)@\(nextOffset)") }
    }

    /// Synchronously commits `offsets` (next offsets to read), or every stored offset when nil. Blocks: call it
    /// from the poll thread (inside delegate callbacks) or another dedicated thread.
    public func commit(_ offsets: [TopicPartition: Int64]? = nil) throws(KafkaError) {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        if let offsets {
            if offsets.isEmpty { return }
            list = makePartitionList(offsets.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        }
        defer { if let list { rd_kafka_topic_partition_list_destroy(list) } }
        let err = rd_kafka_commit(rk, list, 0)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET {
            throw KafkaError(err, context: "commit")
        }
    }

    /// The group's committed offsets (next offset to read; `KafkaOffset.invalid` when none).
    public func committed(_ partitions: [TopicPartition], timeoutMs: Int32 = 10_000) throws(KafkaError) -> [TopicPartition: Int64] {
        let list = makePartitionList(partitions.map { ($0, KafkaOffset.invalid) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_committed(rk, list, timeoutMs)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "committed offsets") }
        var out: [TopicPartition: Int64] = [:]
        for i in 0..<Int(list.pointee.cnt) {
            let e = list.pointee.elems[i]
            out[TopicPartition(String(cString: e.topic), e.partition)] = e.offset
        }
        return out
    }

    /// True when librdkafka considers the current assignment lost (session timed out, poll interval exceeded):
    /// the partitions may already belong to another member, so nothing must be committed for them.
    public var assignmentLost: Bool { rd_kafka_assignment_lost(rk) != 0 }

    /// The partition's high watermark (offset of the next message the broker will append) as last reported in
    /// a fetch response; nil before the first fetch. Non-blocking (librdkafka's cached value), so lag can be
    /// computed on the poll thread without a broker round trip.
    public func highWatermark(_ partition: TopicPartition) -> Int64? {
        var low: Int64 = -1, high: Int64 = -1
        let err = rd_kafka_get_watermark_offsets(rk, partition.topic, partition.partition, &low, &high)
        return err == RD_KAFKA_RESP_ERR_NO_ERROR && high >= 0 ? high : nil
    }

    public func pause(_ partitions: [TopicPartition]) {
        let list = makePartitionList(partitions.map { ($0, 0) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        _ = rd_kafka_pause_partitions(rk, list)
    }

    public func resume(_ partitions: [TopicPartition]) {
        let list = makePartitionList(partitions.map { ($0, 0) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        _ = rd_kafka_resume_partitions(rk, list)
    }

    /// Moves the fetch position of an assigned partition.
    public func seek(_ partition: TopicPartition, to offset: Int64, timeoutMs: Int32 = 5000) throws(KafkaError) {
        let list = makePartitionList([(partition, offset)])
        defer { rd_kafka_topic_partition_list_destroy(list) }
        if let e = rd_kafka_seek_partitions(rk, list, timeoutMs) {
            let err = KafkaError(rd_kafka_error_code(e), context: "seek \(partition)")
            rd_kafka_error_destroy(e)
            throw err
        }
    }

    /// Stops polling, leaves the group (the delegate sees the final revoke on the poll thread) and waits for the
    /// poll thread to finish. Blocks the calling thread; see `close() async`.
    public func closeBlocking() {
        guard started, !stopping.exchange(true, ordering: .relaxed) else { return }
        finished.wait()
    }

    /// Same as `closeBlocking()`, without blocking Swift's cooperative pool.
    public func close() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let t = Thread { self.closeBlocking(); c.resume() }
            t.start()
        }
    }

    deinit {
        if started && !stopping.load(ordering: .relaxed) { closeBlocking() }
        rd_kafka_destroy(rk)
    }

    fileprivate func rebalance(_ err: rd_kafka_resp_err_t, _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) {
        let cooperative = String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE"
        let tps = topicPartitions(partitions)
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            let starts = box.delegate.consumer(self, assigned: tps)
            if let partitions {
                for i in 0..<Int(partitions.pointee.cnt) {
                    let tp = TopicPartition(String(cString: partitions.pointee.elems[i].topic), partitions.pointee.elems[i].partition)
                    if let o = starts[tp] { partitions.pointee.elems[i].offset = o }
                }
            }
            if cooperative {
                if let e = rd_kafka_incremental_assign(rk, partitions) {
                    logger.error("incremental assign: \(String(cString: rd_kafka_error_string(e)))"); rd_kafka_error_destroy(e)
                }
            } else {
                _ = rd_kafka_assign(rk, partitions)
            }
            state.withLock { $0.formUnion(tps) }
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            let lost = rd_kafka_assignment_lost(rk) != 0
            box.delegate.consumer(self, revoking: tps, lost: lost)
            if cooperative {
                if let e = rd_kafka_incremental_unassign(rk, partitions) {
                    logger.error("incremental unassign: \(String(cString: rd_kafka_error_string(e)))"); rd_kafka_error_destroy(e)
                }
            } else {
                _ = rd_kafka_assign(rk, nil)
            }
            state.withLock { $0.subtract(tps) }
        default:
            logger.error("rebalance error: \(String(cString: rd_kafka_err2str(err)))")
            _ = rd_kafka_assign(rk, nil)
            state.withLock { $0.removeAll() }
        }
    }

    fileprivate func reportError(_ err: rd_kafka_resp_err_t, _ reason: String) {
        box.delegate.consumer(self, error: KafkaError(code: err.rawValue, message: reason))
    }
}

/// Bridges librdkafka's C callbacks (one opaque pointer) to the consumer and its delegate.
private final class CallbackBox: KafkaClientBox {
    let delegate: any KafkaConsumerDelegate
    unowned(unsafe) var consumer: KafkaConsumer?
    init(delegate: any KafkaConsumerDelegate) { self.delegate = delegate }
}

private func consumerRebalanceCallback(_ rk: OpaquePointer?, _ err: rd_kafka_resp_err_t,
                                       _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
                                       _ opaque: UnsafeMutableRawPointer?) {
    guard let opaque else { return }
    let box = Unmanaged<CallbackBox>.fromOpaque(opaque).takeUnretainedValue()
    box.consumer?.rebalance(err, partitions)
}

private func consumerErrorCallback(_ rk: OpaquePointer?, _ err: Int32, _ reason: UnsafePointer<CChar>?, _ opaque: UnsafeMutableRawPointer?) {
    guard let opaque else { return }
    let box = Unmanaged<CallbackBox>.fromOpaque(opaque).takeUnretainedValue()
    box.consumer?.reportError(rd_kafka_resp_err_t(rawValue: err), reason.map { String(cString: $0) } ?? "")
}
