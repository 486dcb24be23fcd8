import Atomics
import CRdKafka
import Dispatch
import Foundation

/// Wakes a consumer's broker threads after the application has drained part of the prefetch queue.
///
/// Why: librdkafka before 2.4 stops fetching a partition while the consumer queue holds more than
/// `queued.max.messages.kbytes`, and decides again only when its broker thread wakes up — on a response, an op,
/// or after up to a second. While a backlog is drained, every fetch response comes back with the queue full, so
/// fetching stops and then sits idle until that timeout (measured: 0.3–0.5 s gaps, and with a 4 MB queue a
/// drain at a tenth of its speed). 2.4 made the pause configurable (`fetch.queue.backoff.ms`); for older
/// versions this sends the broker threads a small request once the poll thread has taken a quarter of the
/// queue's bytes, at most every `minInterval`: ListOffsets for one assigned partition per leader broker (a
/// wake-up is per broker thread; naming every partition would load a real broker for nothing), leaders from
/// metadata refreshed every 10 s.
/// That is what lets the daemon run with a small prefetch queue: less memory, fewer page faults on fresh fetch
/// buffers, and messages still in cache when they are scored.
///
/// Idle or live-tail consumers send nothing (nothing is drained). The request runs on the waker's own thread,
/// never the poll thread.
final class FetchWaker: @unchecked Sendable {
    /// When to wake: after every `thresholdBytes` drained, at most once per `minIntervalNs`.
    struct Policy {
        let thresholdBytes: Int
        let minIntervalNs: UInt64
        private var drainedBytes = 0
        private var lastWakeNs: UInt64?

        init(queueBytes: Int, minIntervalMs: Int) {
            thresholdBytes = max(1, queueBytes / 4)
            minIntervalNs = UInt64(max(0, minIntervalMs)) * 1_000_000
        }

        /// `bytes` more were drained at `nowNs`: whether to wake now (the count starts again when it does).
        /// `canWake` false (a wake-up still in flight) keeps the count for the next call.
        mutating func drained(_ bytes: Int, nowNs: UInt64, canWake: @autoclosure () -> Bool = true) -> Bool {
            drainedBytes += bytes
            guard drainedBytes >= thresholdBytes else { return false }
            if let last = lastWakeNs, nowNs &- last < minIntervalNs { return false }
            guard canWake() else { return false }
            drainedBytes = 0
            lastWakeNs = nowNs
            return true
        }
    }

    private let rk: OpaquePointer
    private var policy: Policy
    private let partitions: @Sendable () -> [TopicPartition]
    private let signal = DispatchSemaphore(value: 0)
    private let stopping = ManagedAtomic<Bool>(false)
    private let inFlight = ManagedAtomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)
    /// Wake-ups sent so far, and the partitions the last one asked about (tests and diagnostics).
    let wakes = ManagedAtomic<Int>(0)
    let lastWakePartitions = ManagedAtomic<Int>(0)
    // The waker's thread only: partition leaders from the last metadata refresh.
    private var leaders: [TopicPartition: Int32] = [:]
    private var leadersAtNs: UInt64 = 0
    private static let leadersMaxAgeNs: UInt64 = 10_000_000_000

    /// Whether this librdkafka needs it: 2.4.0 and later back off by `fetch.queue.backoff.ms` instead.
    static var needed: Bool { rd_kafka_version() < 0x0204_0000 }

    /// - Parameters:
    ///   - queueBytes: the consumer's `queued.max.messages.kbytes` in bytes; a wake-up follows every quarter.
    ///   - partitions: the current assignment (read on the waker's thread).
    init(rk: OpaquePointer, queueBytes: Int, minIntervalMs: Int = 5, partitions: @escaping @Sendable () -> [TopicPartition]) {
        self.rk = rk
        self.policy = Policy(queueBytes: queueBytes, minIntervalMs: minIntervalMs)
        self.partitions = partitions
        let t = Thread { [self] in run() }
        t.name = "leadscore-fetch-waker"
        t.start()
    }

    /// The poll thread took `bytes` of messages out of the queue (call it from the poll thread only).
    func drained(_ bytes: Int) {
        if policy.drained(bytes, nowNs: DispatchTime.now().uptimeNanoseconds,
                          canWake: !inFlight.exchange(true, ordering: .acquiring)) {
            signal.signal()
        }
    }

    /// Ends the waker's thread (after a wake-up in flight, bounded by its 1 s timeout).
    func stop() {
        guard !stopping.exchange(true, ordering: .relaxed) else { return }
        signal.signal()
        done.wait()
    }

    private func run() {
        while true {
            signal.wait()
            if stopping.load(ordering: .relaxed) { break }
            let tps = representatives(of: partitions())
            if !tps.isEmpty {
                let list = makePartitionList(tps.map { ($0, KafkaOffset.end) })
                _ = rd_kafka_offsets_for_times(rk, list, 1000)
                rd_kafka_topic_partition_list_destroy(list)
                lastWakePartitions.store(tps.count, ordering: .relaxed)
                wakes.wrappingIncrement(ordering: .relaxed)
            }
            inFlight.store(false, ordering: .releasing)
        }
        done.signal()
    }

    /// One partition per leader broker (and every partition whose leader is unknown), by metadata at most 10 s old.
    private func representatives(of tps: [TopicPartition]) -> [TopicPartition] {
        let now = DispatchTime.now().uptimeNanoseconds
        let age = now &- leadersAtNs
        if age > Self.leadersMaxAgeNs || (age > Self.leadersMaxAgeNs / 10 && tps.contains(where: { leaders[$0] == nil })) {
            refreshLeaders(topics: Set(tps.map(\.topic)))
            leadersAtNs = now
        }
        var seen = Set<Int32>()
        var out: [TopicPartition] = []
        for tp in tps.sorted() {
            guard let leader = leaders[tp], leader >= 0 else { out.append(tp); continue }
            if seen.insert(leader).inserted { out.append(tp) }
        }
        return out
    }

    private func refreshLeaders(topics: Set<String>) {
        for topic in topics.sorted() {
            guard let rkt = rd_kafka_topic_new(rk, topic, nil) else { continue }
            defer { rd_kafka_topic_destroy(rkt) }
            var md: UnsafePointer<rd_kafka_metadata>?
            guard rd_kafka_metadata(rk, 0, rkt, &md, 1000) == RD_KAFKA_RESP_ERR_NO_ERROR, let md else { continue }
            defer { rd_kafka_metadata_destroy(md) }
            for i in 0..<Int(md.pointee.topic_cnt) {
                let t = md.pointee.topics[i]
                for j in 0..<Int(t.partition_cnt) {
                    leaders[TopicPartition(topic, t.partitions[j].id)] = t.partitions[j].leader
                }
            }
        }
    }
}
