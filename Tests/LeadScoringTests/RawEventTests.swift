import Testing
@testable import LeadScoring

/// The scanned form (`SegmentDecoder.scan` + `apply(_:in:…)`, the daemon's) against the Strings form
/// (`decode` + `apply(SegmentEvent)`, replay's): the same records and checkpoint bytes, whatever the JSON spells
/// with escapes, non-ASCII text, invalid UTF-8, URLs instead of paths or repeated trait names.
@Suite struct RawEventTests {
    /// One event as JSON bytes, with the spelling varied by `variant`.
    static func json(_ e: SegmentEvent, variant: Int) -> [UInt8] {
        func str(_ s: String, escapeFirst: Bool = false) -> [UInt8] {
            var out: [UInt8] = [0x22]
            for (k, b) in s.utf8.enumerated() {
                if escapeFirst && k == 0 && b < 0x80 {
                    let hex = Array("0123456789abcdef".utf8)
                    out += Array("\\u00".utf8) + [hex[Int(b >> 4)], hex[Int(b & 15)]]
                } else if b == 0x22 || b == 0x5C { out += [0x5C, b] } else { out.append(b) }
            }
            return out + [0x22]
        }
        let type: String = switch e.kind {
        case .track: "track"
        case .identify: "identify"
        case .page: "page"
        case .screen: "screen"
        case .group: "group"
        case .alias: "alias"
        }
        var o = Array("{\"type\":\"\(type)\",\"messageId\":".utf8) + str(e.messageId, escapeFirst: variant == 3)
        // The contact: plain, escaped, as anonymousId next to an empty userId, or with invalid UTF-8 appended.
        switch variant {
        case 1: o += Array(",\"userId\":".utf8) + str(e.contactId, escapeFirst: true)
        case 2: o += Array(",\"userId\":\"\",\"anonymousId\":".utf8) + str(e.contactId)
        case 4: o += Array(",\"userId\":".utf8) + Array(str(e.contactId).dropLast()) + [0xFF, 0x22]
        case 5: o += Array(",\"userId\":".utf8) + Array(str(e.contactId).dropLast()) + Array("é\"".utf8)
        default: o += Array(",\"userId\":".utf8) + str(e.contactId)
        }
        o += Array(",\"timestamp\":\"\(ISO8601.formatMillis(e.timestamp))\"".utf8)
        if let n = e.eventName { o += Array(",\"event\":".utf8) + str(n, escapeFirst: variant == 1) }
        if let p = e.pagePath {
            switch variant {
            case 1: o += Array(",\"properties\":{\"url\":\"https://x.example\(p)?a=1\"}".utf8)
            case 2: o += Array(",\"properties\":{\"url\":".utf8) + str("https://x.example\(p)#top", escapeFirst: true) + [0x7D]
            case 3: o += Array(",\"properties\":{\"path\":".utf8) + str(p, escapeFirst: true) + [0x7D]
            default: o += Array(",\"properties\":{\"path\":".utf8) + str(p) + [0x7D]
            }
        }
        if !e.traits.isEmpty {
            var t: [UInt8] = [0x7B]
            for (i, (name, value)) in e.traits.enumerated() {
                if i > 0 { t.append(0x2C) }
                t += str(name, escapeFirst: variant == 2) + [0x3A]
                switch value {
                case .string(let s): t += str(s, escapeFirst: variant == 3)
                case .number(let d): t += Array(String(Int(d)).utf8)
                case .bool(let b): t += Array((b ? "true" : "false").utf8)
                case .null: t += Array("null".utf8)
                case .other: t += Array("[1]".utf8)
                }
            }
            // A repeated name: the later value wins.
            if variant == 5 { t += Array(",\"title\":\"Student\"".utf8) }
            t.append(0x7D)
            if e.kind == .identify && variant == 4 {
                o += Array(",\"context\":{\"traits\":{\"industry\":\"retail\",\"title\":\"CEO\"}},\"traits\":".utf8) + t
            } else {
                o += Array(",\"traits\":".utf8) + t
            }
        }
        return o + [0x7D]
    }

    static func corpus(seed: UInt64) -> [[UInt8]] {
        var rng = SeededRandom(seed: seed ^ 0x5EED)
        var out: [[UInt8]] = []
        for e in RandomStream.make(seed: seed, n: 3000, contacts: 40, spanDays: 90, duplicates: true) {
            out.append(json(e, variant: Int.random(in: 0..<12, using: &rng)))
            if Int.random(in: 0..<25, using: &rng) == 0 { out.append(out[out.count - 1]) }   // re-sent
        }
        return out
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func scannedEventsScoreExactlyLikeDecodedOnes(seed: UInt64) throws {
        let rules = Fixtures.exampleRules()
        let strings = PartitionEngine(rules: rules), raw = PartitionEngine(rules: rules)
        var a: [OutputRecord] = [], b: [OutputRecord] = []
        var results: [(ApplyResult, ApplyResult)] = []
        for bytes in Self.corpus(seed: seed) {
            let e = try SegmentDecoder.decode(bytes)
            let ra = strings.apply(e, trigger: Trigger(messageId: e.messageId, topic: "in", partition: 0, offset: 7), into: &a)
            let rb = try bytes.withUnsafeBytes { buf in
                raw.apply(try SegmentDecoder.scan(buf), in: buf, trigger: Trigger(messageId: "", topic: "in", partition: 0, offset: 7), into: &b)
            }
            results.append((ra, rb))
        }
        #expect(results.allSatisfy { $0.0 == $0.1 })
        #expect(a.count > 50)
        #expect(a == b)
        #expect(strings.contactIDs == raw.contactIDs)
        // Escaped, accented and repaired ids are contacts of their own, found again by both forms.
        #expect(strings.contactIDs.contains { $0.hasSuffix("\u{FFFD}") })
        #expect(strings.contactIDs.contains { $0.hasSuffix("é") })
        for id in strings.contactIDs { #expect(strings.encodeContact(id) == raw.encodeContact(id)) }
        #expect(strings.duplicates == raw.duplicates && strings.duplicates > 0)
    }

    @Test func theStringsFormOfAScannedEventIsTheDecodedEvent() throws {
        for bytes in Self.corpus(seed: 9).prefix(600) {
            let d = try SegmentDecoder.decode(bytes)
            let s = try bytes.withUnsafeBytes { SegmentEvent(try SegmentDecoder.scan($0), in: $0) }
            #expect(s.kind == d.kind && s.messageId == d.messageId && s.contactId == d.contactId && s.timestamp == d.timestamp)
            #expect(s.eventName == d.eventName && s.pagePath == d.pagePath)
            #expect(s.traits.map(\.name) == d.traits.map(\.name) && s.traits.map(\.value) == d.traits.map(\.value))
        }
    }

    @Test func scanRejectsWhatDecodeRejectsWithTheSameReason() {
        let bad = [
            #"[1]"#, #"{"type":"track","messageId":"m","userId":"u","timestamp":"2026-01-01T00:00:00Z","traits":{"a":01}}"#,
            #"{"type":"identify","messageId":"m","userId":"u","timestamp":"2026-01-01T00:00:00Z","traits":[1]}"#,
            #"{"type":"page","messageId":"m","userId":"u","timestamp":"2026-01-01T00:00:00Z","context":{"traits":3}}"#,
            #"{"type":"page","messageId":"","userId":"u","timestamp":"2026-01-01T00:00:00Z"}"#,
            #"{"type":"page","messageId":"m","userId":"","timestamp":"2026-01-01T00:00:00Z"}"#,
            #"{"type":"page","messageId":"m","userId":"u","timestamp":"2026-01-01T00:00:00"}"#,
            #"{"type":"nope","messageId":"m","userId":"u","timestamp":"2026-01-01T00:00:00Z"}"#,
            #"{"type":"track","messageId":"m","userId":"u","timestamp":"2026-01-01T00:00:00Z","properties":{"x":"\q"}}"#,
        ]
        for text in bad {
            let bytes = Array(text.utf8)
            var decoded: InvalidEvent?, scanned: InvalidEvent?
            do { _ = try SegmentDecoder.decode(bytes) } catch { decoded = error }
            bytes.withUnsafeBytes { b in do throws(InvalidEvent) { _ = try SegmentDecoder.scan(b) } catch { scanned = error } }
            #expect(decoded != nil, "\(text)")
            #expect(decoded == scanned, "\(text)")
        }
    }

    @Test func contactIdEqualsComparesTheTextNotTheSpelling() throws {
        let bytes = Array(#"{"type":"page","messageId":"m","userId":"\u0063ü1","timestamp":"2026-01-01T00:00:00Z"}"#.utf8)
        try bytes.withUnsafeBytes { b in
            let e = try SegmentDecoder.scan(b)
            #expect(e.contactIdString(in: b) == "cü1")
            let key = Array("cü1".utf8), other = Array("c1".utf8)
            #expect(key.withUnsafeBytes { e.contactId(equals: $0, in: b) })
            #expect(!other.withUnsafeBytes { e.contactId(equals: $0, in: b) })
        }
    }
}
