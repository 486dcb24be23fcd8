import LeadKafka
import Metrics
import Synchronization

/// The daemon's metrics (swift-metrics; exported as Prometheus text by LeadOps). Created once: nothing is
/// looked up by name on the hot path. Names and meanings: docs/metrics.md.
public final class RuntimeMetrics: Sendable {
    public let scored = Counter(label: "leadscore_events_total", dimensions: [("result", "scored")])
    public let duplicates = Counter(label: "leadscore_events_total", dimensions: [("result", "duplicate")])
    public let invalid = Counter(label: "leadscore_events_total", dimensions: [("result", "invalid")])
    public let ignored = Counter(label: "leadscore_events_total", dimensions: [("result", "ignored")])
    public let deadLettered = Counter(label: "leadscore_dead_letters_total")
    public let misrouted = Counter(label: "leadscore_events_misrouted_total")
    /// Stage-change records by transition and alerts by reason/priority, created on first use (only the
    /// transitions that happen become series).
    private let labelled = Mutex<[String: Counter]>([:])
    /// `leadscore_time_in_stage_seconds{from,to}`, indexed by stage pair (`transitionSlot`): created on first
    /// use, then found without building a key (one per stage-change record).
    private let timeInStage = Mutex<[Recorder?]>(Array(repeating: nil, count: 64))
    /// `leadscore_consumer_lag_messages{topic,partition}` of the assigned partitions.
    private let lags = Mutex<[TopicPartition: Gauge]>([:])
    /// Event (Kafka message timestamp) → output acknowledged by the broker.
    public let eventToOutputSeconds = Recorder(label: "leadscore_event_to_output_latency_seconds", aggregate: true)
    public let batches = Counter(label: "leadscore_batches_total")
    public let batchSize = Recorder(label: "leadscore_batch_size", aggregate: true)
    public let deliveryErrors = Counter(label: "leadscore_delivery_errors_total")
    public let offsetOutOfRange = Counter(label: "leadscore_offset_out_of_range_total")
    public let consumerErrors = Counter(label: "leadscore_consumer_errors_total")
    public let checkpoints = Counter(label: "leadscore_checkpoints_total")
    /// Offset commits after checkpoints: `deferred` when the checkpoint outlasted the session timeout (the
    /// assignment may be lost, so the next checkpoint commits), `failed` when the broker refused.
    public let commitsDone = Counter(label: "leadscore_offset_commits_total", dimensions: [("result", "committed")])
    public let commitsFailed = Counter(label: "leadscore_offset_commits_total", dimensions: [("result", "failed")])
    public let commitsDeferred = Counter(label: "leadscore_offset_commits_total", dimensions: [("result", "deferred")])
    public let checkpointSeconds = Recorder(label: "leadscore_checkpoint_duration_seconds", aggregate: true)
    public let checkpointBytes = Recorder(label: "leadscore_checkpoint_bytes", aggregate: true)
    public let restoreSeconds = Recorder(label: "leadscore_restore_duration_seconds", aggregate: true)
    public let contacts = Gauge(label: "leadscore_contacts")
    /// Wall-clock time (Unix seconds) when a lane last finished events: `time() - this` is how long the
    /// pipeline has processed nothing (a stall alert), and a benchmark reads the end of a drain from it
    /// instead of polling `/metrics` fast while it runs.
    public let lastEventProcessed = Gauge(label: "leadscore_last_event_processed_timestamp_seconds")
    public let assignedPartitions = Gauge(label: "leadscore_assigned_partitions")
    public let ready = Gauge(label: "leadscore_ready")
    public let producerQueue = Gauge(label: "leadscore_producer_queue_messages")
    /// librdkafka statistics of the daemon's consumer and producer (`leadscore_kafka_*`).
    public let kafka = KafkaStatisticsMetrics()
    /// Per stage: contacts currently at it (all assigned partitions).
    public let contactsPerStage: [Stage: Gauge]
    /// lead→MQL: contacts that reached MQL or beyond / all contacts; MQL→SQL likewise.
    public let leadToMQL = Gauge(label: "leadscore_funnel_conversion_ratio", dimensions: [("from", "lead"), ("to", "mql")])
    public let mqlToSQL = Gauge(label: "leadscore_funnel_conversion_ratio", dimensions: [("from", "mql"), ("to", "sql")])

    public init() {
        var g: [Stage: Gauge] = [:]
        for s in Stage.allCases { g[s] = Gauge(label: "leadscore_contacts_per_stage", dimensions: [("stage", s.name)]) }
        contactsPerStage = g
    }

    /// The counter of one stage transition (`leadscore_stage_changes_total{from,to}`).
    public func stageChange(from: Stage, to: Stage) -> Counter {
        counter(label: "leadscore_stage_changes_total", [("from", from.name), ("to", to.name)])
    }

    /// The histogram of event time spent in `from` before moving to `to` (`leadscore_time_in_stage_seconds`),
    /// fed from `OutputRecord.timeInPreviousStage` so the funnel's speed (median lead → MQL, MQL → SQL) is live.
    public func timeInStage(from: Stage, to: Stage) -> Recorder {
        let i = Self.transitionSlot(from) * 8 + Self.transitionSlot(to)
        return timeInStage.withLock { table in
            if let r = table[i] { return r }
            let r = Recorder(label: "leadscore_time_in_stage_seconds", dimensions: [("from", from.name), ("to", to.name)], aggregate: true)
            table[i] = r
            return r
        }
    }

    /// 0…7 for the eight stages (`disqualified` last).
    static func transitionSlot(_ s: Stage) -> Int { s == .disqualified ? 7 : s.rawValue }

    /// The counter of alerts for one reason and priority 1–3 (`leadscore_alerts_total{reason,priority}`).
    public func alert(intent: Bool, priority: UInt8) -> Counter {
        counter(label: "leadscore_alerts_total", [("reason", intent ? "intent" : "stage"), ("priority", "P\(priority)")])
    }

    /// Messages behind the partition's high watermark (refreshed at each checkpoint interval).
    public func setConsumerLag(_ tp: TopicPartition, _ lag: Int64) {
        let g = lags.withLock { table in
            if let g = table[tp] { return g }
            let g = Gauge(label: "leadscore_consumer_lag_messages", dimensions: [("topic", tp.topic), ("partition", "\(tp.partition)")])
            table[tp] = g
            return g
        }
        g.record(lag)
    }

    /// Drops the lag series of partitions this instance no longer owns (another instance reports them now).
    public func removeConsumerLag(partitions: Set<Int32>) {
        let gone = lags.withLock { table in
            let gone = table.filter { partitions.contains($0.key.partition) }
            for k in gone.keys { table[k] = nil }
            return Array(gone.values)
        }
        for g in gone { g.destroy() }
    }

    private func counter(label: String, _ dimensions: [(String, String)]) -> Counter {
        let key = label + dimensions.map { "|" + $0.1 }.joined()
        return labelled.withLock { table in
            if let c = table[key] { return c }
            let c = Counter(label: label, dimensions: dimensions)
            table[key] = c
            return c
        }
    }

    /// Histogram buckets per metric, for the Prometheus factory (seconds and bytes need their own scales).
    public static let histogramBuckets: [String: [Double]] = [
        "leadscore_event_to_output_latency_seconds": [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
        "leadscore_checkpoint_duration_seconds": [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        "leadscore_restore_duration_seconds": [0.001, 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60],
        "leadscore_checkpoint_bytes": [1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9],
        // Event time: 1 min, 10 min, 1 h, 6 h, 1 d, 3 d, 7 d, 14 d, 30 d, 60 d, 90 d.
        "leadscore_time_in_stage_seconds": [60, 600, 3600, 21_600, 86_400, 259_200, 604_800, 1_209_600, 2_592_000, 5_184_000, 7_776_000],
    ]
}

import LeadScoring
