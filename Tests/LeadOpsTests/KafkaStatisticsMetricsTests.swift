import Foundation
import LeadKafka
import LeadRuntime
import Metrics
import Prometheus
import Testing

/// librdkafka statistics reports → `leadscore_kafka_*` series, as `/metrics` renders them.
@Suite struct KafkaStatisticsMetricsTests {
    static func report(type: String, txBytes: Int, msgCnt: Int = 0, lags: [Int: Int]) throws -> KafkaStatistics {
        let partitions = lags.map { #""\#($0.key)":{"partition":\#($0.key),"fetchq_cnt":\#($0.key + 3),"consumer_lag":\#($0.value)}"# }
        let json = #"""
        {"name":"leadscored#\#(type)-1","type":"\#(type)","replyq":2,"msg_cnt":\#(msgCnt),"tx_bytes":\#(txBytes),"rx_bytes":500,
         "brokers":{"127.0.0.1:9092/1":{"name":"127.0.0.1:9092/1","nodeid":1,"source":"learned","rtt":{"avg":2000,"p99":12000,"cnt":4}},
                    "127.0.0.1:9093/2":{"name":"127.0.0.1:9093/2","nodeid":2,"source":"learned","rtt":{"avg":0,"p99":0,"cnt":0}}},
         "topics":{"events":{"topic":"events","partitions":{\#(partitions.joined(separator: ","))}}}}
        """#
        return try KafkaStatistics(json: Data(json.utf8))
    }

    @Test func reportsBecomeGaugesCountersAndLagSeriesThatFollowTheAssignment() throws {
        let registry = PrometheusCollectorRegistry()
        let metrics = KafkaStatisticsMetrics(factory: PrometheusMetricsFactory(registry: registry))
        func samples() throws -> [String: Double] {
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            return try parsePrometheus(String(decoding: buffer, as: UTF8.self))
        }
        metrics.record(try Self.report(type: "consumer", txBytes: 1200, lags: [0: 12, 1: -1]))
        metrics.record(try Self.report(type: "producer", txBytes: 700, msgCnt: 42, lags: [:]))
        var s = try samples()
        #expect(s[#"leadscore_kafka_broker_rtt_seconds{client="consumer",broker="127.0.0.1:9092/1",stat="avg"}"#] == 0.002)
        #expect(s[#"leadscore_kafka_broker_rtt_seconds{client="consumer",broker="127.0.0.1:9092/1",stat="p99"}"#] == 0.012)
        #expect(!s.keys.contains { $0.contains("9093/2") })                      // no requests measured: no series
        #expect(s[#"leadscore_kafka_reply_queue_ops{client="consumer"}"#] == 2)
        #expect(s[#"leadscore_kafka_tx_bytes_total{client="consumer"}"#] == 1200)
        #expect(s[#"leadscore_kafka_tx_bytes_total{client="producer"}"#] == 700)
        #expect(s[#"leadscore_kafka_rx_bytes_total{client="consumer"}"#] == 500)
        #expect(s["leadscore_kafka_producer_queue_messages"] == 42)
        #expect(s["leadscore_kafka_consumer_fetch_queue_messages"] == 7)   // 3 + 4 (fetchq_cnt of both partitions)
        #expect(s[#"leadscore_kafka_consumer_lag_messages{topic="events",partition="0"}"#] == 12)
        #expect(!s.keys.contains { $0.contains(#"partition="1""#) })             // lag unknown to librdkafka

        // Next interval: totals advance to librdkafka's, partition 0 went away, partition 1 has a lag now.
        metrics.record(try Self.report(type: "consumer", txBytes: 2000, lags: [1: 5]))
        s = try samples()
        #expect(s[#"leadscore_kafka_tx_bytes_total{client="consumer"}"#] == 2000)
        #expect(s[#"leadscore_kafka_rx_bytes_total{client="consumer"}"#] == 500)
        #expect(s[#"leadscore_kafka_consumer_lag_messages{topic="events",partition="1"}"#] == 5)
        #expect(s[#"leadscore_kafka_consumer_lag_messages{topic="events",partition="0"}"#] == nil)
        // A new client (totals from 0 again) keeps the counter monotonic.
        metrics.record(try Self.report(type: "consumer", txBytes: 300, lags: [:]))
        #expect(try samples()[#"leadscore_kafka_tx_bytes_total{client="consumer"}"#] == 2300)
    }
}
