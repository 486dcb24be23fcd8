import Foundation
import Histogram
import LeadKafka
import Synchronization

/// Reads the daemon's output topics and keeps what `bench` and `demo` report: distinct records, duplicates,
/// each contact's last published stage, the latest records, and produce→output latency per triggering event.
final class OutputWatcher: KafkaConsumerDelegate, @unchecked Sendable {
    /// One output record, as shown in the demo's feed.
    struct Entry: Sendable {
        var type: String
        var contact: String
        var text: String
    }

    struct State {
        var ids = Set<String>()
        var duplicates = 0
        var stageChanges = 0
        var alerts = 0
        var lastStage: [String: String] = [:]
        var recent: [Entry] = []
        var latencyMicros = Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
        var lastArrival = Date()
    }

    let state = Mutex(State())
    private let produceTimes: ProduceClock
    private var consumer: KafkaConsumer?

    init(produceTimes: ProduceClock) { self.produceTimes = produceTimes }

    /// Subscribes to the output topics with a fresh group, from the beginning.
    func start(bootstrap: String, topics: [String]) throws {
        var opts = ConsumerOptions(groupId: "leadscore-watch-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        opts.batchWaitMs = 1
        // Read every partition from the start without joining a group: no join delay in the latency figures.
        let counts = try KafkaAdmin.partitionCounts(config: KafkaConfig(bootstrapServers: bootstrap), topics: topics)
        var manual: [TopicPartition: Int64] = [:]
        for t in topics { for p in 0..<(counts[t] ?? 0) { manual[TopicPartition(t, Int32(p))] = KafkaOffset.beginning } }
        opts.manualAssignment = manual
        let c = try KafkaConsumer(config: KafkaConfig(bootstrapServers: bootstrap, clientId: "leadscore-watch",
                                                      properties: ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500",
                                                                   "enable.auto.commit": "false", "fetch.wait.max.ms": "5"]),
                                  topics: topics, options: opts, delegate: self)
        try c.start()
        consumer = c
    }

    func stop() { consumer?.closeBlocking(); consumer = nil }

    func consumer(_ consumer: KafkaConsumer, received batch: MessageBatch) {
        let now = DispatchTime.now().uptimeNanoseconds
        var parsed: [[String: Any]] = []
        for m in batch {
            if let obj = try? JSONSerialization.jsonObject(with: Data(m.value)) as? [String: Any] { parsed.append(obj) }
        }
        state.withLock { s in
            s.lastArrival = Date()
            for obj in parsed {
                guard let id = obj["id"] as? String, let type = obj["type"] as? String else { continue }
                if !s.ids.insert(id).inserted { s.duplicates += 1; continue }
                let contact = obj["contact_id"] as? String ?? "?"
                let trigger = (obj["trigger"] as? [String: Any])?["message_id"] as? String
                if let trigger, let sent = produceTimes.time(of: trigger), now > sent {
                    s.latencyMicros.record((now - sent) / 1000)
                }
                let score = ((obj["score"] as? [String: Any])?["total"] as? NSNumber)?.doubleValue ?? 0
                let rules = (obj["top_rules"] as? [[String: Any]] ?? []).compactMap { $0["rule"] as? String }.joined(separator: ", ")
                let text: String
                if type == "stage_changed" {
                    s.stageChanges += 1
                    let to = obj["to"] as? String ?? "?"
                    s.lastStage[contact] = to
                    text = "\(contact): \(obj["from"] as? String ?? "?") → \(to)  score \(String(format: "%.1f", score))  [\(rules)]"
                } else {
                    s.alerts += 1
                    let why = (obj["reason"] as? String ?? "") + ((obj["rule"] as? String).map { ":" + $0 } ?? "")
                    text = "\(contact): HOT \(obj["priority"] as? String ?? "") \(why) at \(obj["stage"] as? String ?? "")  score \(String(format: "%.1f", score))  [\(rules)]"
                }
                s.recent.append(Entry(type: type, contact: contact, text: text))
                if s.recent.count > 64 { s.recent.removeFirst(s.recent.count - 64) }
            }
        }
    }

    func consumer(_ consumer: KafkaConsumer, revoking partitions: [TopicPartition], lost: Bool) {}
    func consumer(_ consumer: KafkaConsumer, assigned partitions: [TopicPartition]) -> [TopicPartition: Int64] {
        Dictionary(uniqueKeysWithValues: partitions.map { ($0, KafkaOffset.beginning) })
    }
    func consumer(_ consumer: KafkaConsumer, error: KafkaError) {}
}

/// When each input message was produced (monotonic nanoseconds), by message id.
final class ProduceClock: @unchecked Sendable {
    private let times = Mutex<[String: UInt64]>([:])
    func mark(_ messageId: String, _ t: UInt64) { times.withLock { $0[messageId] = t } }
    func time(of messageId: String) -> UInt64? { times.withLock { $0[messageId] } }
}
