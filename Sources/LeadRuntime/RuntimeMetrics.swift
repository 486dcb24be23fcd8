import Metrics

/// The daemon's metrics (swift-metrics; exported as Prometheus text by LeadOps). Created once: nothing is
/// looked up by name on the hot path. Names and meanings: docs/metrics.md.
public final class RuntimeMetrics: Sendable {
    public let scored = Counter(label: "leadscore_events_total", dimensions: [("result", "scored")])
    public let duplicates = Counter(label: "leadscore_events_total", dimensions: [("result", "duplicate")])
    public let invalid = Counter(label: "leadscore_events_total", dimensions: [("result", "invalid")])
    public let ignored = Counter(label: "leadscore_events_total", dimensions: [("result", "ignored")])
    public let deadLettered = Counter(label: "leadscore_dead_letters_total")
    public let misrouted = Counter(label: "leadscore_events_misrouted_total")
    public let stageChanges = Counter(label: "leadscore_stage_changes_total")
    public let alerts = Counter(label: "leadscore_alerts_total")
    public let batches = Counter(label: "leadscore_batches_total")
    public let batchSize = Recorder(label: "leadscore_batch_size", aggregate: true)
    public let deliveryErrors = Counter(label: "leadscore_delivery_errors_total")
    public let offsetOutOfRange = Counter(label: "leadscore_offset_out_of_range_total")
    public let consumerErrors = Counter(label: "leadscore_consumer_errors_total")
    public let checkpoints = Counter(label: "leadscore_checkpoints_total")
    public let checkpointSeconds = Recorder(label: "leadscore_checkpoint_duration_seconds", aggregate: true)
    public let checkpointBytes = Recorder(label: "leadscore_checkpoint_bytes", aggregate: true)
    public let restoreSeconds = Recorder(label: "leadscore_restore_duration_seconds", aggregate: true)
    public let contacts = Gauge(label: "leadscore_contacts")
    public let assignedPartitions = Gauge(label: "leadscore_assigned_partitions")
    public let ready = Gauge(label: "leadscore_ready")
    public let producerQueue = Gauge(label: "leadscore_producer_queue_messages")
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
}

import LeadScoring
