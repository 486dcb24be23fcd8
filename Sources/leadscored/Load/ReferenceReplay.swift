import Foundation
import LeadScoring

/// The engine run in-process over the same generated stream, split by partition exactly as the daemon's
/// input is: what the daemon must publish (CONTRACTS §6 `mismatched_contacts`).
struct ReferenceReplay {
    private var engines: [PartitionEngine]
    private var out: [OutputRecord] = []
    /// Each contact's last published stage.
    private(set) var lastStage: [String: String] = [:]
    private(set) var stageChanges = 0
    private(set) var alerts = 0
    private(set) var invalid = 0

    init(rules: Rules, partitions: Int) {
        engines = (0..<partitions).map { _ in PartitionEngine(rules: rules) }
    }

    var outputs: Int { stageChanges + alerts }

    /// Applies one event to its partition's engine; returns how many records it produced.
    @discardableResult
    mutating func apply(json: [UInt8], partition: Int) -> Int {
        let event: SegmentEvent
        do { event = try SegmentDecoder.decode(json) } catch { invalid += 1; return 0 }
        out.removeAll(keepingCapacity: true)
        _ = engines[partition].apply(event, trigger: Trigger(messageId: event.messageId), into: &out)
        for r in out {
            switch r.kind {
            case .stageChange:
                stageChanges += 1
                if let to = Self.field("to", in: r.json) { lastStage[r.contactId] = to }
            case .alert:
                alerts += 1
            }
        }
        return out.count
    }

    /// Reads a top-level string field of a record (records are flat up to `score`).
    static func field(_ name: String, in json: [UInt8]) -> String? {
        let needle = Array("\"\(name)\":\"".utf8)
        guard json.count > needle.count else { return nil }
        var i = 0
        while i + needle.count <= json.count {
            if json[i] == needle[0] && Array(json[i..<(i + needle.count)]) == needle {
                let start = i + needle.count
                guard let end = json[start...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
                return String(decoding: json[start..<end], as: UTF8.self)
            }
            i += 1
        }
        return nil
    }
}
