import CRdKafka
import Dispatch
import Foundation

/// Carries librdkafka's statistics JSON from a client's poll thread to its owner's handler.
///
/// librdkafka calls the statistics callback on whichever thread serves the client's queue (the consumer's or
/// the producer's poll thread, which also score and deliver): it only copies the bytes there and returns;
/// parsing (Foundation `JSONSerialization`, a few ms for many partitions) and the handler run on a private
/// serial queue — in order, off the hot path, and never on Swift's cooperative pool.
final class StatisticsRelay: Sendable {
    private let handler: @Sendable (KafkaStatistics) -> Void
    private let queue = DispatchQueue(label: "leadscore.kafka-statistics", qos: .utility)

    init(handler: @escaping @Sendable (KafkaStatistics) -> Void) { self.handler = handler }

    /// Called on a poll thread with librdkafka's buffer (valid only during the call).
    func deliver(_ json: UnsafePointer<CChar>, count: Int) {
        let data = Data(bytes: json, count: count)
        queue.async { [handler] in
            do { handler(try KafkaStatistics(json: data)) } catch {
                kafkaLogger.warning("librdkafka statistics not understood: \(error)")
            }
        }
    }

    /// Registers the statistics callback on `conf` when there is a handler; the client's opaque must be a
    /// `KafkaClientBox` holding the returned relay. librdkafka only emits when `statistics.interval.ms` > 0.
    static func install(on conf: OpaquePointer, handler: (@Sendable (KafkaStatistics) -> Void)?) -> StatisticsRelay? {
        guard let handler else { return nil }
        rd_kafka_conf_set_stats_cb(conf, kafkaStatisticsCallback)
        return StatisticsRelay(handler: handler)
    }
}

/// What every client's librdkafka opaque points to, so callbacks shared by consumers and producers (statistics)
/// find their relay with one C function.
class KafkaClientBox: @unchecked Sendable {
    /// Set before the client handle exists, never changed afterwards.
    var statistics: StatisticsRelay?
}

private func kafkaStatisticsCallback(_ rk: OpaquePointer?, _ json: UnsafeMutablePointer<CChar>?, _ len: Int,
                                     _ opaque: UnsafeMutableRawPointer?) -> Int32 {
    guard let opaque, let json else { return 0 }
    Unmanaged<KafkaClientBox>.fromOpaque(opaque).takeUnretainedValue().statistics?.deliver(json, count: len)
    return 0    // librdkafka frees the buffer
}
