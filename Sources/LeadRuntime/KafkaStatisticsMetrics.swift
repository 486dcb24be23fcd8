import LeadKafka
import Metrics
import Synchronization

/// librdkafka's statistics (`statistics.interval.ms`) as `leadscore_kafka_*` series (docs/metrics.md).
///
/// Fed from each client's statistics queue, once per interval and client — never per event — so series are
/// looked up by key here; they are created on first report and cached. librdkafka reports totals since the
/// client started: the `_total` counters advance by the difference to the previous report.
public final class KafkaStatisticsMetrics: Sendable {
    private struct Series {
        var gauges: [String: Gauge] = [:]
        var counters: [String: Counter] = [:]
        /// Previous totals per counter key.
        var totals: [String: Int64] = [:]
        /// Lag series per client in the previous report, to remove those of partitions no longer reported.
        var lagKeys: [String: Set<String>] = [:]
    }

    private let series = Mutex(Series())
    private let factory: any MetricsFactory

    /// - Parameter factory: where series are made (tests pass their own registry's); the bootstrapped one by default.
    public init(factory: any MetricsFactory = MetricsSystem.factory) { self.factory = factory }

    /// Updates the series from one client's report.
    public func record(_ s: KafkaStatistics) {
        series.withLock { m in
            let client = ("client", s.client)
            for b in s.brokers where b.rttSamples > 0 {
                gauge(&m, label: "leadscore_kafka_broker_rtt_seconds", [client, ("broker", b.name), ("stat", "avg")]).record(b.rttAverage)
                gauge(&m, label: "leadscore_kafka_broker_rtt_seconds", [client, ("broker", b.name), ("stat", "p99")]).record(b.rttP99)
            }
            gauge(&m, label: "leadscore_kafka_reply_queue_ops", [client]).record(s.replyQueue)
            advance(&m, label: "leadscore_kafka_tx_bytes_total", [client], to: s.transmittedBytes)
            advance(&m, label: "leadscore_kafka_rx_bytes_total", [client], to: s.receivedBytes)
            switch s.client {
            case "producer":
                gauge(&m, label: "leadscore_kafka_producer_queue_messages", []).record(s.queuedMessages)
            case "consumer":
                gauge(&m, label: "leadscore_kafka_consumer_fetch_queue_messages", [])
                    .record(s.partitions.reduce(0) { $0 + $1.fetchQueueMessages })
                var keys = Set<String>()
                for p in s.partitions {
                    guard let lag = p.consumerLag else { continue }
                    let dims = [("topic", p.topic), ("partition", String(p.partition))]
                    let lagGauge = gauge(&m, label: "leadscore_kafka_consumer_lag_messages", dims)
                    keys.insert(Self.key(lagGauge.label, dims))
                    lagGauge.record(lag)
                }
                for gone in (m.lagKeys[s.client] ?? []).subtracting(keys) { m.gauges.removeValue(forKey: gone)?.destroy() }
                m.lagKeys[s.client] = keys
            default:
                break
            }
        }
    }

    private static func key(_ label: String, _ dims: [(String, String)]) -> String {
        label + dims.map { "|" + $0.0 + "=" + $0.1 }.joined()
    }

    private func gauge(_ m: inout Series, label: String, _ dims: [(String, String)]) -> Gauge {
        let k = Self.key(label, dims)
        if let g = m.gauges[k] { return g }
        let g = Gauge(label: label, dimensions: dims, factory: factory)
        m.gauges[k] = g
        return g
    }

    /// Moves a counter to librdkafka's total (a smaller total means a new client: it counts from 0 again).
    private func advance(_ m: inout Series, label: String, _ dims: [(String, String)], to total: Int64) {
        let k = Self.key(label, dims)
        let counter: Counter
        if let c = m.counters[k] { counter = c } else {
            counter = Counter(label: label, dimensions: dims, factory: factory)
            m.counters[k] = counter
        }
        let previous = m.totals[k] ?? 0
        let delta = total >= previous ? total - previous : total
        if delta > 0 { counter.increment(by: delta) }
        m.totals[k] = total
    }
}
