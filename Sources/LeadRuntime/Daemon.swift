import Atomics
import Foundation
import LeadKafka
import LeadScoring
import Logging

/// The daemon: input batches → per-partition engines → output topics, with at-least-once offsets.
///
/// Threads: everything that touches partition state runs on the consumer's dedicated poll thread (decode,
/// score, produce, checkpoint, commit, rebalance), so no lock is taken per event and Swift's cooperative pool
/// is never blocked. Outputs are acknowledged before a checkpoint is written (producer flush), and offsets are
/// committed only after the checkpoint that covers them is durable: a crash replays at most the events after
/// the last checkpoint, whose outputs carry the same ids (consumers de-duplicate by `id`).
public final class Daemon: KafkaConsumerDelegate, DaemonStatusProvider, @unchecked Sendable {
    public let config: DaemonConfig
    public let rules: Rules
    let logger: Logger
    let metrics: RuntimeMetrics
    /// Partition count shared by every input topic (checked at start).
    public let partitionCount: Int
    private var consumer: KafkaConsumer?
    private var producer: KafkaProducer?
    private let shardsLock = NSLock()
    private var shards: [Int32: PartitionShard] = [:] {
        didSet {
            // Sized by the assignment too: a partition added to the topic later is still found.
            let n = max(partitionCount, Int(shards.keys.max() ?? -1) + 1)
            shardAt = (0..<n).map { shards[Int32($0)] }
        }
    }
    /// `shards` by partition number, for the per-message lookup.
    private var shardAt: [PartitionShard?] = []
    private var joined = false
    private var fatalError: String?
    private var lastCheckpoint = Date()
    /// When the poll thread last returned from a callback (to notice that the process was stopped).
    private var lastCallbackEnd: Date?
    /// When the poll thread entered the callback it is in: a stop *during* a checkpoint shows up as a gap
    /// between this and the commit.
    private var callbackBegan = Date()
    /// After a stall longer than the session timeout the group has probably reassigned our partitions, and
    /// librdkafka may not have noticed yet: no checkpoint or commit until a rebalance or this deadline.
    private var checkpointFence: Date?
    private let deliveryFailures = ManagedAtomic<Int>(0)
    /// The threads a batch's partitions are scored on; set at the end of `init` (its handler needs `self`).
    private var lanes: LanePool<LaneJob>!
    /// Per lane: its scratch state (only that lane touches it).
    private var laneWork: [LaneWork] = []
    private let failLock = NSLock()
    private let dataRoot: String
    /// Scale-out: contact state mirrored to Kafka (nil: local checkpoints only).
    let changelog: StateChangelog?
    /// Scale-out: who owns which partition (nil: no owner hints).
    let ownership: OwnershipDirectory?
    private let addressLock = NSLock()
    private var address: String?
    /// Called (once) when the daemon cannot continue safely; the process should stop with exit code 2.
    public var onFatal: (@Sendable (String) -> Void)?

    /// Checks the input topics (same partition count) and prepares the clients. Throws `DaemonError`.
    public init(config: DaemonConfig, rules: Rules, logger: Logger, metrics: RuntimeMetrics) throws {
        self.config = config
        self.rules = rules
        self.logger = logger
        self.metrics = metrics
        let kafka = KafkaConfig(bootstrapServers: config.bootstrapServers, clientId: config.clientId, properties: config.kafkaProperties)
        let counts: [String: Int]
        do { counts = try KafkaAdmin.partitionCounts(config: kafka, topics: config.inputTopics) } catch {
            throw DaemonError.runtime("cannot read topic metadata from \(config.bootstrapServers): \(error)")
        }
        let missing = config.inputTopics.filter { (counts[$0] ?? 0) == 0 }
        if !missing.isEmpty { throw DaemonError.config("input topic(s) \(missing.joined(separator: ", ")) do not exist on \(config.bootstrapServers)") }
        let distinct = Set(config.inputTopics.map { counts[$0]! })
        if distinct.count > 1 {
            let list = config.inputTopics.map { "\($0)=\(counts[$0]!)" }.joined(separator: ", ")
            throw DaemonError.config("input topics must have the same partition count (a contact's state lives with its partition number): \(list)")
        }
        partitionCount = distinct.first!
        changelog = try config.stateTopic.map { topic in
            try Self.ensureCompactedTopic(kafka, topic, partitions: distinct.first!, purpose: "state changelog (topics.state)")
            return StateChangelog(topic: topic, kafka: kafka)
        }
        ownership = try config.ownersTopic.map { topic in
            try Self.ensureCompactedTopic(kafka, topic, partitions: 1, purpose: "partition ownership (topics.owners)")
            return OwnershipDirectory(topic: topic, kafka: kafka, logger: logger)
        }
        let topicsKey = String(StableHash.fnv1a64(config.inputTopics.sorted().joined(separator: ",")), radix: 16)
        dataRoot = "\(config.dataDir)/\(config.groupId)/\(topicsKey)"
        let laneCount = config.effectiveProcessingThreads
        laneWork = (0..<laneCount).map { _ in LaneWork() }
        lanes = LanePool(lanes: laneCount, name: "leadscore-lane") { [unowned self] lane, job in
            let work = laneWork[lane]
            score(job.batch, job.indices, work)
            work.addCounts(to: metrics)
        }
    }

    deinit { lanes?.shutdown() }

    /// Checks that a topic the daemon writes state to exists with the right partition count, creating it
    /// (compacted) when the broker supports CreateTopics; otherwise says exactly what to create.
    static func ensureCompactedTopic(_ kafka: KafkaConfig, _ topic: String, partitions: Int, purpose: String) throws {
        let have: Int
        do { have = try KafkaAdmin.partitionCounts(config: kafka, topics: [topic])[topic] ?? 0 } catch {
            throw DaemonError.runtime("cannot read metadata of \(topic): \(error)")
        }
        if have == partitions { return }
        if have != 0 {
            throw DaemonError.config("the \(purpose) topic \(topic) has \(have) partitions; it needs \(partitions) (partition i holds input partition i's contacts)")
        }
        do {
            try KafkaAdmin.createTopic(config: kafka, name: topic, partitions: partitions, settings: ["cleanup.policy": "compact"])
        } catch {
            throw DaemonError.config("the \(purpose) topic \(topic) does not exist and could not be created (\(error)); create it with \(partitions) partition(s) and cleanup.policy=compact")
        }
    }

    /// The HTTP address announced as this instance's (set once the server listens).
    public func setAdvertisedAddress(_ a: String) {
        addressLock.lock(); address = a; addressLock.unlock()
    }

    private var advertisedAddress: String? {
        addressLock.lock(); defer { addressLock.unlock() }
        return config.advertisedAddress ?? address
    }

    /// Creates the clients, joins the group and starts consuming on the poll thread.
    public func start() throws {
        let m = metrics
        var clientProps = config.kafkaProperties
        if clientProps["statistics.interval.ms"] == nil { clientProps["statistics.interval.ms"] = String(DaemonConfig.defaultStatisticsIntervalMs) }
        let kafka = KafkaConfig(bootstrapServers: config.bootstrapServers, clientId: config.clientId, properties: clientProps,
                                onStatistics: { m.kafka.record($0) })
        let failures = deliveryFailures
        let log = logger
        let outputs = [config.stageChangesTopic, config.alertsTopic, config.deadLetterTopic] + (config.scoresTopic.map { [$0] } ?? [])
        let changelog = self.changelog
        producer = try KafkaProducer(config: kafka, warmTopics: outputs) { report in
            if changelog?.delivered(report) == true, report.error == nil { return }
            if let e = report.error {
                if failures.loadThenWrappingIncrement(ordering: .relaxed) < 5 { log.error("output not delivered: \(e)") }
                m.deliveryErrors.increment()
            } else if report.token > 0 {
                // The token is the triggering message's Kafka timestamp (ms): event → acknowledged output.
                let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
                m.eventToOutputSeconds.record(Double(max(0, nowMs - Int64(report.token))) / 1000)
            }
        }
        var opts = ConsumerOptions(groupId: config.groupId)
        opts.batchSize = config.batchSize
        opts.batchWaitMs = config.batchWaitMs
        opts.autoOffsetReset = config.startFrom == "latest" ? "latest" : "earliest"
        opts.groupInstanceId = config.groupInstanceId
        // Several input topics must keep partition i of each on one member: range assignment does that.
        opts.assignmentStrategy = config.inputTopics.count > 1 ? "range" : "cooperative-sticky"
        // Offsets are committed explicitly after checkpoints only.
        var consumerKafka = kafka
        consumerKafka.properties["enable.auto.commit"] = "false"
        // A small prefetch queue (librdkafka's default is 64 MB): a backlog's messages are scored while they are
        // still in cache, and the fetch thread reuses its buffers instead of faulting in fresh memory. Viable on
        // librdkafka 2.0.2 only with the consumer's fetch waker (see FetchWaker). Operators may raise it.
        if consumerKafka.properties["queued.max.messages.kbytes"] == nil {
            consumerKafka.properties["queued.max.messages.kbytes"] = String(DaemonConfig.defaultPrefetchKilobytes)
        }
        let c = try KafkaConsumer(config: consumerKafka, topics: config.inputTopics, options: opts, delegate: self)
        consumer = c
        try ownership?.start()
        try c.start()
        logger.info("consuming \(config.inputTopics.joined(separator: ", ")) (\(partitionCount) partitions) as group \(config.groupId)")
    }

    /// Graceful stop: stop polling, final checkpoint and commit for every partition (in the revoke that leaving
    /// the group triggers), flush the producer. Blocks the calling thread: call it from a dedicated thread.
    public func stop() {
        consumer?.closeBlocking()   // its final revoke drained the lanes
        consumer = nil
        lanes.shutdown()
        ownership?.stop()
        producer?.close(timeoutMs: 10_000)
        producer = nil
    }

    // MARK: - consumer delegate (poll thread)

    /// Splits the batch by partition over the lanes (each partition always on the lane its shard was given)
    /// and goes back to polling: one hand-over per batch and lane, never per event.
    public func consumer(_ consumer: KafkaConsumer, received batch: MessageBatch) {
        noticeStall()
        defer { lastCallbackEnd = Date() }
        metrics.batches.increment()
        metrics.batchSize.record(batch.count)
        var parts = [[Int]](repeating: [], count: lanes.count)
        for i in 0..<batch.count {
            guard let shard = shard(batch[i].partition), shard.status == .ready else { continue }
            parts[shard.lane].append(i)
            shard.recentLoad += 1
        }
        for lane in parts.indices where !parts[lane].isEmpty { lanes.submit(lane, LaneJob(batch: batch, indices: parts[lane])) }
        maybeCheckpoint()
    }

    @inline(__always) private func shard(_ p: Int32) -> PartitionShard? {
        Int(p) < shardAt.count ? shardAt[Int(p)] : nil
    }

    /// Partitions are spread over the lanes in partition order at every rebalance, then moved by their load
    /// at checkpoints (`balanceLanes`).
    private func spreadOverLanes() {
        for (i, s) in shards.values.sorted(by: { $0.partition < $1.partition }).enumerated() { s.lane = i % lanes.count; s.recentLoad = 0 }
    }

    /// Moves partitions between lanes when their recent loads are unbalanced. Lanes must be drained.
    private func balanceLanes() {
        let loads = shards.values.map { (partition: $0.partition, load: $0.recentLoad, lane: $0.lane) }
        for s in shards.values { s.recentLoad = 0 }
        guard let moved = LaneBalance.assign(loads: loads, lanes: lanes.count) else { return }
        for s in shards.values { if let l = moved[s.partition] { s.lane = l } }
        logger.debug("processing lanes rebalanced by load: \(moved.sorted { $0.key < $1.key }.map { "\($0.key)→\($0.value)" }.joined(separator: " "))")
    }

    /// Scores one lane's messages in order; a shard's lock is held over each run of its messages.
    private func score(_ batch: MessageBatch, _ indices: [Int], _ work: LaneWork) {
        var held: PartitionShard?
        for i in indices {
            let m = batch[i]
            guard let shard = shard(m.partition) else { continue }
            if held !== shard { held?.lock.unlock(); shard.lock.lock(); held = shard }
            if m.topicHandle != work.topicHandle || work.topicHandle == nil {
                let name = m.topic
                guard let ti = config.inputTopics.firstIndex(of: name) else { continue }
                work.topicHandle = m.topicHandle; work.topic = name; work.topicIndex = ti
            }
            process(m, topic: work.topic, topicIndex: work.topicIndex, shard: shard, work: work)
        }
        held?.lock.unlock()
    }

    public func consumerIdle(_ consumer: KafkaConsumer) {
        noticeStall()
        maybeCheckpoint()
        lastCallbackEnd = Date()
    }

    /// The poll thread came back after longer than the session timeout (SIGSTOP, a frozen VM, swapping):
    /// another member may own our partitions by now. Fences checkpoints until the rebalance this causes.
    private func noticeStall() {
        callbackBegan = Date()
        guard let last = lastCallbackEnd else { return }
        let gap = Date().timeIntervalSince(last)
        if exceedsSession(gap) {
            fenceCheckpoints()
            logger.warning("the poll thread was stalled for \(Int(gap * 1000)) ms (session timeout \(sessionTimeoutMs) ms): no checkpoint or commit until the group confirms the assignment")
        }
    }

    /// No checkpoint or commit until a rebalance or a few heartbeats from now.
    private func fenceCheckpoints() {
        checkpointFence = Date().addingTimeInterval(max(3, 3 * Double(heartbeatIntervalMs) / 1000))
    }

    private var sessionTimeoutMs: Int { Int(config.kafkaProperties["session.timeout.ms"] ?? "") ?? 45_000 }
    /// Longer than the session timeout: the group may have given this member's partitions to another by now.
    private func exceedsSession(_ seconds: TimeInterval) -> Bool { seconds * 1000 > Double(sessionTimeoutMs) }
    private var heartbeatIntervalMs: Int { Int(config.kafkaProperties["heartbeat.interval.ms"] ?? "") ?? 3_000 }

    private func process(_ m: KafkaMessage, topic: String, topicIndex: Int, shard: PartitionShard, work: LaneWork) {
        let offset = m.offset
        if offset < shard.next[topicIndex] { return }   // already processed (`unset` is below every offset)
        do throws(InvalidEvent) {
            // Scanned, not decoded: the engine reads ids, names and paths in librdkafka's buffer (no String each).
            let event = try SegmentDecoder.scan(m.value)
            if let ts = m.timestampMillis, ts > 0, event.timestamp > ts * 1000 + config.maxFutureSkew {
                throw InvalidEvent(.futureTimestamp, "event time \(ISO8601.formatMillis(event.timestamp)) is more than \(config.maxFutureSkew / 1_000_000) s ahead of the message timestamp \(ISO8601.formatMillis(ts * 1000))")
            }
            if let key = m.key, !event.contactId(equals: key, in: m.value) {
                metrics.misrouted.increment()
                if Date().timeIntervalSince(work.lastMisrouteLog) > 10 {
                    work.lastMisrouteLog = Date()
                    logger.warning("misrouted event: key is not the contact id (scored in the partition where it arrived)",
                                   metadata: ["topic": "\(topic)", "partition": "\(m.partition)", "offset": "\(offset)", "contact": "\(event.contactIdString(in: m.value))"])
                }
            }
            work.outputs.removeAll(keepingCapacity: true)
            // The engine fills in the message id when a record needs it.
            let result = shard.engine.apply(event, in: m.value, trigger: Trigger(messageId: "", topic: topic, partition: m.partition, offset: offset), into: &work.outputs)
            switch result {
            case .scored: work.scored += 1
            case .duplicate: work.duplicates += 1
            case .ignored: work.ignored += 1
            }
            let token = UInt64(max(0, m.timestampMillis ?? 0))
            for r in work.outputs { publish(r, token: token, work: work) }
        } catch {
            deadLetter(m, topic: topic, error: error)
        }
        shard.next[topicIndex] = offset + 1
        shard.changedSinceCheckpoint = true
    }

    private func publish(_ r: OutputRecord, token: UInt64, work: LaneWork) {
        let topic: String
        if let d = r.timeInPreviousStage { metrics.timeInStage(from: r.from, to: r.to).record(Double(d) / 1_000_000) }   // stage changes only
        switch r.kind {
        case .stageChange: topic = config.stageChangesTopic; work.countTransition(from: r.from, to: r.to)
        case .alert: topic = config.alertsTopic; work.countAlert(intent: r.intent, priority: r.priority)
        }
        do { try producer?.produce(topic: topic, key: Array(r.contactId.utf8), value: r.json, token: token) } catch {
            fail("cannot produce to \(topic): \(error)")
        }
    }

    /// The original bytes and key, with the reason and source coordinates as headers (CONTRACTS §4).
    private func deadLetter(_ m: KafkaMessage, topic: String, error: InvalidEvent) {
        metrics.invalid.increment()
        var value = Array(m.value)
        var headers: [(name: String, value: [UInt8])] = [
            ("error", Array(error.description.utf8)),
            ("source.topic", Array(topic.utf8)),
            ("source.partition", Array(String(m.partition).utf8)),
            ("source.offset", Array(String(m.offset).utf8)),
        ]
        if value.count > config.maxDeadLetterBytes {
            headers.append(("truncated", Array("original \(value.count) bytes".utf8)))
            value = Array(value.prefix(config.maxDeadLetterBytes))
        }
        do {
            try producer?.produce(topic: config.deadLetterTopic, key: m.key.map { Array($0) }, value: value, headers: headers, token: 0)
            metrics.deadLettered.increment()
        } catch {
            fail("cannot produce a dead letter to \(config.deadLetterTopic): \(error)")
        }
    }

    public func consumer(_ consumer: KafkaConsumer, assigned partitions: [TopicPartition]) -> [TopicPartition: Int64] {
        callbackBegan = Date()
        lanes.drain()   // the shard table changes below: no lane may be scoring
        checkpointFence = nil
        defer { lastCallbackEnd = Date() }
        var starts: [TopicPartition: Int64] = [:]
        for (p, tps) in Dictionary(grouping: partitions, by: \.partition).sorted(by: { $0.key < $1.key }) {
            let shard = shards[p] ?? openShard(p, topics: tps, consumer: consumer)
            for tp in tps {
                if let o = shard.nextOffsets[tp.topic] {
                    starts[tp] = o
                } else if shard.status == .ready {
                    starts[tp] = config.startFrom == "latest" ? KafkaOffset.end : KafkaOffset.beginning
                }
            }
        }
        joined = true
        spreadOverLanes()
        if let ownership, let producer, let address = advertisedAddress {
            do { try ownership.announce(producer, partitions: Array(Set(partitions.map(\.partition))).sorted(), address: address) } catch {
                logger.warning("cannot announce partition ownership on \(ownership.topic): \(error)")
            }
        }
        updateGauges()
        logger.info("assigned \(partitions.map(\.description).sorted().joined(separator: ", "))")
        return starts
    }

    /// Restores a partition from its newest usable checkpoint (or starts it empty when the group never
    /// committed it). Without usable state for a committed partition it stays failed unless rebuilding.
    /// With a state changelog, the local checkpoint is a cache: the changelog after it is applied on top,
    /// and without it the partition is rebuilt from the changelog alone.
    private func openShard(_ p: Int32, topics: [TopicPartition], consumer: KafkaConsumer) -> PartitionShard {
        let started = Date()
        let store = CheckpointStore(directory: "\(dataRoot)/p\(p)", logger: logger)
        let options = EngineOptions(quietUntil: config.quietUntil)
        let make = { PartitionEngine(rules: self.rules, options: options) }
        var shard = PartitionShard(partition: p, topics: config.inputTopics, engine: make(), store: store)
        var localProblem: String?
        do {
            if let (engine, restored) = try store.restore(into: make) {
                shard = PartitionShard(partition: p, topics: config.inputTopics, engine: engine, store: store)
                shard.nextOffsets = restored.offsets.filter { $0.key != StateChangelog.localOffsetKey }
                shard.changelogMarker = restored.offsets[StateChangelog.localOffsetKey]
                shard.status = .ready
                logger.info("partition \(p) restored: \(engine.contactCount) contacts from \(restored.files) checkpoint file(s), offsets \(shard.nextOffsets)",
                            metadata: ["partition": "\(p)"])
            }
        } catch {
            localProblem = "partition \(p): no usable checkpoint in \(store.directory): \(error)"
        }
        if let changelog, let problem = catchUp(shard, from: changelog, hadLocal: shard.status == .ready) {
            // Whatever was applied before the failure is not trusted: a fresh engine, failed or rebuilt from the input.
            shard = PartitionShard(partition: p, topics: config.inputTopics, engine: make(), store: store)
            noUsableState(shard, problem)
        }
        if case .restoring = shard.status {
            if let localProblem {
                noUsableState(shard, localProblem)
            } else {
                let committed = (try? consumer.committed(topics)) ?? [:]
                if committed.values.contains(where: { $0 >= 0 }) {
                    noUsableState(shard, "partition \(p) has committed offsets \(committed.filter { $0.value >= 0 }) but no checkpoint in \(store.directory)" + (changelog.map { " and no state in \($0.topic)" } ?? ""))
                } else {
                    shard.status = .ready
                }
            }
        }
        metrics.restoreSeconds.record(Date().timeIntervalSince(started))
        shardsLock.lock(); shards[p] = shard; shardsLock.unlock()
        return shard
    }

    /// Applies the changelog after the local checkpoint's marker (from offset 0 without one). A changelog that
    /// no longer starts at 0 cannot rebuild a partition completely: returns the problem instead.
    private func catchUp(_ shard: PartitionShard, from changelog: StateChangelog, hadLocal: Bool) -> String? {
        let p = shard.partition
        let from = hadLocal ? (shard.changelogMarker ?? -1) + 1 : 0
        do {
            let r = try changelog.restore(partition: p, from: from, into: shard.engine)
            if let offsets = r.offsets {
                shard.nextOffsets = offsets
                shard.changelogMarker = r.markerOffset
                shard.status = .ready
                logger.info("partition \(p): \(r.contacts) contact state(s) applied from \(changelog.topic) offsets \(from)..<\(r.high); input offsets \(offsets)",
                            metadata: ["partition": "\(p)"])
            } else if hadLocal && from > r.high {
                logger.warning("partition \(p): the local checkpoint covers \(changelog.topic) up to offset \(from - 1) but the topic ends at \(r.high) (recreated?); using the local checkpoint",
                               metadata: ["partition": "\(p)"])
            }
        } catch {
            let evicted = (error as? KafkaError)?.isOffsetOutOfRange == true
            return "partition \(p): cannot restore from \(changelog.topic) at offset \(from): \(error)"
                + (evicted ? " (the changelog no longer holds every record from there: not compacted, or retention dropped them; a rebuild would be incomplete)" : "")
        }
        return nil
    }

    private func noUsableState(_ shard: PartitionShard, _ why: String) {
        if config.rebuildFromEarliest {
            logger.warning("\(why); rebuilding from the earliest retained offset (--rebuild-from earliest): events already dropped by retention are lost")
            for t in config.inputTopics { shard.nextOffsets[t] = KafkaOffset.beginning }
            shard.status = .ready
        } else {
            let msg = "\(why): its state cannot be rebuilt safely; the partition is not processed. Restore the data directory, or restart with --rebuild-from earliest to replay it from the earliest retained offset"
            logger.error("\(msg)", metadata: ["partition": "\(shard.partition)"])
            shard.status = .failed(msg)
        }
    }

    public func consumer(_ consumer: KafkaConsumer, revoking partitions: [TopicPartition], lost: Bool) {
        callbackBegan = Date()
        lanes.drain()   // every event handed out so far is applied before the checkpoint and the shard drop
        defer { lastCallbackEnd = Date() }
        checkpointFence = nil
        let ps = Set(partitions.map(\.partition))
        if lost {
            logger.warning("partitions \(ps.sorted()) were lost to the group: not committing for them")
        } else {
            checkpoint(only: ps, reason: "revoke")
        }
        shardsLock.lock()
        for p in ps { shards[p] = nil }
        shardsLock.unlock()
        spreadOverLanes()
        metrics.removeConsumerLag(partitions: ps)
        updateGauges()
        logger.info("revoked \(partitions.map(\.description).sorted().joined(separator: ", "))")
    }

    public func consumer(_ consumer: KafkaConsumer, error: KafkaError) {
        metrics.consumerErrors.increment()
        if error.isOffsetOutOfRange || error.name == "_AUTO_OFFSET_RESET" {
            metrics.offsetOutOfRange.increment()
            logger.error("offset out of range (events were evicted before they were read): \(error)")
        } else {
            logger.warning("kafka: \(error)")
        }
    }

    // MARK: - checkpoints

    private func maybeCheckpoint() {
        if Date().timeIntervalSince(lastCheckpoint) >= config.checkpointIntervalSeconds {
            lanes.drain()   // the checkpoint covers exactly the events handed out so far
            checkpoint(only: nil, reason: "interval")
            balanceLanes()
            updateLag()
        }
    }

    /// Consumer lag per assigned partition: the broker's high watermark minus the next offset to process.
    private func updateLag() {
        guard let consumer else { return }
        for shard in shards.values where shard.status == .ready {
            for (topic, next) in shard.nextOffsets where next >= 0 {
                let tp = TopicPartition(topic, shard.partition)
                if let high = consumer.highWatermark(tp) { metrics.setConsumerLag(tp, max(0, high - next)) }
            }
        }
    }

    /// Outputs acknowledged → state written → offsets committed, in that order. Callers drain the lanes first.
    private func checkpoint(only: Set<Int32>?, reason: String) {
        lastCheckpoint = Date()
        guard failure == nil, let producer, let consumer else { return }
        if let fence = checkpointFence {
            if Date() < fence { return }
            checkpointFence = nil
        }
        if consumer.assignmentLost {
            logger.warning("assignment lost: not checkpointing or committing (\(reason)); waiting for the rebalance")
            return
        }
        let selected = shards.values.filter { only?.contains($0.partition) ?? true }.filter { $0.status == .ready && $0.changedSinceCheckpoint }
        if selected.isEmpty { return }
        let started = Date()
        do { try producer.flush(timeoutMs: 120_000) } catch {
            fail("outputs were not acknowledged before the checkpoint: \(error)"); return
        }
        if deliveryFailures.load(ordering: .relaxed) > 0 {
            fail("some outputs could not be delivered; stopping so that the events are processed again after a restart"); return
        }
        var commits: [TopicPartition: Int64] = [:]
        var bytes = 0
        let ordered = selected.sorted(by: { $0.partition < $1.partition })
        // The changed contacts, taken once: the changelog and the local checkpoint carry the same bytes.
        var changes: [Int32: [EncodedContact]] = [:]
        for shard in ordered {
            let engine = shard.engine
            changes[shard.partition] = shard.withLock { engine.encodeContacts(engine.takeDirtyContactIDs()) }
        }
        if let scoresTopic = config.scoresTopic {
            // The latest score of every contact changed since the last checkpoint (compacted by key downstream).
            do {
                for shard in ordered {
                    for (id, _) in changes[shard.partition] ?? [] {
                        guard let view = shard.withLock({ shard.engine.contact(id) }) else { continue }
                        try producer.produce(topic: scoresTopic, key: Array(id.utf8), value: view.json, token: 0)
                    }
                }
            } catch {
                fail("cannot produce to \(scoresTopic): \(error)"); return
            }
        }
        if let changelog {
            do {
                for shard in ordered {
                    try changelog.publish(producer, partition: shard.partition, changes: changes[shard.partition] ?? [],
                                          offsets: shard.nextOffsets, partitionState: shard.withLock { shard.engine.encodePartitionState() })
                }
            } catch {
                fail("cannot produce to the state changelog \(changelog.topic): \(error)"); return
            }
        }
        if changelog != nil || config.scoresTopic != nil {
            do { try producer.flush(timeoutMs: 120_000) } catch {
                fail("the state changelog / scores were not acknowledged: \(error)"); return
            }
            if deliveryFailures.load(ordering: .relaxed) > 0 {
                fail("some changelog or score records could not be delivered; stopping so that the events are processed again after a restart"); return
            }
        }
        for shard in ordered {
            var offsets = shard.nextOffsets
            if let marker = changelog?.acknowledgedMarker(shard.partition) { offsets[StateChangelog.localOffsetKey] = marker }
            do {
                bytes += try shard.withLock { try shard.store.write(engine: shard.engine, changes: changes[shard.partition] ?? [], offsets: offsets) }
            } catch {
                fail("cannot write the checkpoint of partition \(shard.partition): \(error)"); return
            }
            shard.changedSinceCheckpoint = false
            for (t, o) in shard.nextOffsets where o >= 0 { commits[TopicPartition(t, shard.partition)] = o }
        }
        let inCallback = Date().timeIntervalSince(callbackBegan)
        if exceedsSession(inCallback) || consumer.assignmentLost {
            // Stopped (SIGSTOP, a frozen VM) or stuck in a flush for longer than the session timeout since this
            // callback began: the group has probably moved these partitions. The checkpoint is durable; the
            // commit waits for the next checkpoint after the group has confirmed (or revoked) the assignment.
            logger.warning("not committing after the checkpoint (\(reason)): \(Int(inCallback * 1000)) ms since the poll thread's callback began (session timeout \(sessionTimeoutMs) ms), the assignment may be lost; the next checkpoint commits")
            for shard in ordered { shard.changedSinceCheckpoint = true }
            fenceCheckpoints()
            metrics.commitsDeferred.increment()
        } else {
            do {
                try consumer.commit(commits)
                metrics.commitsDone.increment()
            } catch {
                // The checkpoint is durable and records its offsets: a restart resumes from it, so this is not fatal.
                logger.warning("commit after checkpoint failed (\(reason)): \(error)")
                metrics.commitsFailed.increment()
            }
        }
        metrics.checkpoints.increment()
        metrics.checkpointSeconds.record(Date().timeIntervalSince(started))
        metrics.checkpointBytes.record(bytes)
        metrics.producerQueue.record(producer.outstanding)
        updateGauges()
        logger.debug("checkpoint (\(reason)): \(selected.count) partition(s), \(bytes) bytes")
    }

    private var failure: String? { failLock.lock(); defer { failLock.unlock() }; return fatalError }

    /// Any lane may fail; the first message wins.
    private func fail(_ message: String) {
        failLock.lock()
        guard fatalError == nil else { failLock.unlock(); return }
        fatalError = message
        failLock.unlock()
        metrics.ready.record(0)
        logger.critical("\(message)")
        onFatal?(message)
    }

    private func updateGauges() {
        var perStage: [Stage: Int] = [:]
        var contacts = 0
        for s in shards.values {
            contacts += s.engine.contactCount
            for (st, n) in s.engine.stageCounts() { perStage[st, default: 0] += n }
        }
        metrics.contacts.record(contacts)
        metrics.assignedPartitions.record(shards.count)
        for (st, g) in metrics.contactsPerStage { g.record(perStage[st] ?? 0) }
        if contacts > 0 {
            let atLeastMQL = perStage.filter { $0.key != .lead && $0.key != .disqualified }.values.reduce(0, +)
            let atLeastSQL = perStage.filter { $0.key >= .sql && $0.key != .disqualified }.values.reduce(0, +)
            metrics.leadToMQL.record(Double(atLeastMQL) / Double(contacts))
            metrics.mqlToSQL.record(atLeastMQL == 0 ? 0 : Double(atLeastSQL) / Double(atLeastMQL))
        }
        metrics.ready.record(readiness().ready ? 1 : 0)
    }

    // MARK: - status (any thread)

    public func readiness() -> Readiness {
        shardsLock.lock(); defer { shardsLock.unlock() }
        if let f = failure { return Readiness(ready: false, reason: f) }
        if !joined { return Readiness(ready: false, reason: "joining consumer group \(config.groupId)") }
        for s in shards.values.sorted(by: { $0.partition < $1.partition }) {
            switch s.status {
            case .ready: continue
            case .restoring: return Readiness(ready: false, reason: "partition \(s.partition) restoring")
            case .failed(let why): return Readiness(ready: false, reason: why)
            }
        }
        return Readiness(ready: true, reason: "\(shards.count) partition(s) assigned and consuming")
    }

    public func lookupContact(_ id: String) -> ContactLookup {
        let p = Int32(Partitioner.partition(key: id, count: partitionCount))
        shardsLock.lock()
        let shard = shards[p]
        shardsLock.unlock()
        guard let shard else {
            let owner = ownership?.owner(of: p).flatMap { $0 == advertisedAddress ? nil : $0 }
            return .ownedElsewhere(partition: Int(p), owner: owner)
        }
        switch shard.status {
        case .ready: break
        case .restoring: return .notReady("partition \(p) restoring")
        case .failed(let why): return .notReady(why)
        }
        guard let view = shard.withLock({ shard.engine.contact(id) }) else { return .unknown }
        var json = view.json
        if json.last == UInt8(ascii: "}") {
            json.removeLast()
            json += Array(",\"partition\":\(p)}".utf8)
        }
        return .found(json)
    }
}

/// Why the daemon cannot start: configuration (exit 1) or runtime (exit 2).
public enum DaemonError: Error, CustomStringConvertible {
    case config(String)
    case runtime(String)
    public var description: String {
        switch self { case .config(let s), .runtime(let s): s }
    }
}
