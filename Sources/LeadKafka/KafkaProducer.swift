import CRdKafka
import Foundation
import Logging
import Atomics
import Synchronization

/// The outcome of one produced message, routed back with the token the caller chose.
public struct DeliveryReport: Sendable {
    public var token: UInt64
    /// nil when the broker acknowledged the message.
    public var error: KafkaError?
    public var partition: Int32
    public var offset: Int64
}

/// An idempotent, high-throughput producer. Delivery reports arrive on a dedicated poll thread through the
/// `onDelivery` closure, identified by a caller token (no per-message boxing).
public final class KafkaProducer: @unchecked Sendable {
    private let rk: OpaquePointer
    private let box: ProducerBox
    private let stopping = ManagedAtomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private let logger = Logger(label: "leadscore.producer")

    /// - Parameter onDelivery: called once per message, on the producer's poll thread (or on a thread waiting
    ///   in `produce` for queue space). Must not block for long.
    /// - Parameter warmTopics: topics whose metadata is fetched at once (on the poll thread), so the first
    ///   records are not held back waiting for it.
    public init(config: KafkaConfig, warmTopics: [String] = [], onDelivery: @escaping @Sendable (DeliveryReport) -> Void) throws(KafkaError) {
        var config = config
        // Consumer-only properties (shared config files pass them to every client) would only produce warnings.
        config.properties = config.properties.filter { !KafkaConfig.isConsumerOnly($0.key) }
        let conf = try config.makeConf(defaults: [
            "enable.idempotence": "true",
            // Every wakeup of librdkafka's broker thread walks all partitions of the output topics, and each
            // partition's linger deadline causes one: with 3 × 64 output partitions, 20 ms cost about 8 % of the
            // daemon's CPU in the drain benchmark (50 ms: half that). Records wait at most this long.
            "linger.ms": "50",
            "batch.num.messages": "10000",
            "batch.size": "1000000",
            "compression.codec": "none",
            "queue.buffering.max.messages": "200000",
            "queue.buffering.max.kbytes": "1048576",
        ])
        let box = ProducerBox(onDelivery: onDelivery)
        box.statistics = StatisticsRelay.install(on: conf, handler: config.onStatistics)
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(box).toOpaque())
        rd_kafka_conf_set_dr_msg_cb(conf, producerDeliveryCallback)
        rd_kafka_conf_set_error_cb(conf, producerErrorCallback)
        self.rk = try makeClient(RD_KAFKA_PRODUCER, conf: conf)
        self.box = box
        nonisolated(unsafe) let handle = rk
        let thread = Thread { [stopping, finished] in
            for t in warmTopics {
                guard let rkt = rd_kafka_topic_new(handle, t, nil) else { continue }
                var md: UnsafePointer<rd_kafka_metadata>?
                if rd_kafka_metadata(handle, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR, let md { rd_kafka_metadata_destroy(md) }
                rd_kafka_topic_destroy(rkt)
            }
            while !stopping.load(ordering: .relaxed) { rd_kafka_poll(handle, 100) }
            finished.signal()
        }
        thread.name = "leadscore-producer-poll"
        thread.start()
    }

    /// Enqueues one message. When librdkafka's local queue is full this waits (serving delivery reports) until
    /// there is room: backpressure, never a dropped message. Blocks the calling thread while waiting.
    /// - Parameter partition: nil lets librdkafka's partitioner choose by key.
    public func produce(topic: String, partition: Int32? = nil, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer,
                        headers: [(name: String, value: [UInt8])] = [], token: UInt64) throws(KafkaError) {
        while true {
            var hdrs: OpaquePointer?
            if !headers.isEmpty {
                hdrs = rd_kafka_headers_new(headers.count)
                for h in headers {
                    h.value.withUnsafeBytes { b in _ = rd_kafka_header_add(hdrs, h.name, -1, b.baseAddress, b.count) }
                }
            }
            let err = ls_produce(rk, topic, partition ?? RD_KAFKA_PARTITION_UA, key?.baseAddress, key?.count ?? 0,
                                 value.baseAddress, value.count, hdrs, UnsafeMutableRawPointer(bitPattern: UInt(token)))
            if err == RD_KAFKA_RESP_ERR_NO_ERROR { return }
            if let hdrs { rd_kafka_headers_destroy(hdrs) }
            if err == RD_KAFKA_RESP_ERR__QUEUE_FULL {
                rd_kafka_poll(rk, 10)
                continue
            }
            throw KafkaError(err, context: "produce to \(topic)")
        }
    }

    /// Convenience over byte arrays (tests, dead letters).
    public func produce(topic: String, partition: Int32? = nil, key: [UInt8]?, value: [UInt8],
                        headers: [(name: String, value: [UInt8])] = [], token: UInt64) throws(KafkaError) {
        var failure: KafkaError?
        value.withUnsafeBytes { v in
            do {
                if let key {
                    try key.withUnsafeBytes { k in
                        try produce(topic: topic, partition: partition, key: k, value: v, headers: headers, token: token)
                    }
                } else {
                    try produce(topic: topic, partition: partition, key: nil, value: v, headers: headers, token: token)
                }
            } catch let e as KafkaError { failure = e } catch { failure = KafkaError(code: -1, message: "\(error)") }
        }
        if let failure { throw failure }
    }

    /// Messages not yet acknowledged (queued locally or in flight).
    public var outstanding: Int { Int(rd_kafka_outq_len(rk)) }

    /// Waits until every queued message is delivered or failed. Blocks the calling thread.
    public func flush(timeoutMs: Int32) throws(KafkaError) {
        let err = rd_kafka_flush(rk, timeoutMs)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "flush (\(outstanding) messages outstanding)") }
    }

    /// Flushes (up to `timeoutMs`) and stops the poll thread. Blocks the calling thread.
    public func close(timeoutMs: Int32 = 10_000) {
        guard !stopping.load(ordering: .relaxed) else { return }
        do { try flush(timeoutMs: timeoutMs) } catch { logger.warning("\(error)") }
        stopping.store(true, ordering: .relaxed)
        finished.wait()
    }

    deinit {
        close(timeoutMs: 1000)
        rd_kafka_destroy(rk)
    }
}

private final class ProducerBox: KafkaClientBox {
    let onDelivery: @Sendable (DeliveryReport) -> Void
    let logger = Logger(label: "leadscore.producer")
    init(onDelivery: @escaping @Sendable (DeliveryReport) -> Void) { self.onDelivery = onDelivery }
}

private func producerDeliveryCallback(_ rk: OpaquePointer?, _ m: UnsafePointer<rd_kafka_message_t>?, _ opaque: UnsafeMutableRawPointer?) {
    guard let opaque, let m else { return }
    let box = Unmanaged<ProducerBox>.fromOpaque(opaque).takeUnretainedValue()
    let token = UInt64(UInt(bitPattern: m.pointee._private))
    let err = m.pointee.err
    let error: KafkaError? = err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError(err, context: "delivery")
    box.onDelivery(DeliveryReport(token: token, error: error, partition: m.pointee.partition, offset: m.pointee.offset))
}

private func producerErrorCallback(_ rk: OpaquePointer?, _ err: Int32, _ reason: UnsafePointer<CChar>?, _ opaque: UnsafeMutableRawPointer?) {
    guard let opaque else { return }
    let box = Unmanaged<ProducerBox>.fromOpaque(opaque).takeUnretainedValue()
    let text = reason.map { String(cString: $0) } ?? ""
    box.logger.warning("producer: \(text)")
}
