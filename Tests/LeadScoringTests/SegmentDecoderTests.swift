import Foundation
import Testing
@testable import LeadScoring

private func decode(_ s: String) throws(InvalidEvent) -> SegmentEvent { try SegmentDecoder.decode(Array(s.utf8)) }

private func reason(_ s: String) -> InvalidEvent.Reason? {
    do { _ = try decode(s); return nil } catch { return error.reason }
}

@Suite struct SegmentDecoderTests {
    @Test func decodesATrackEventWithContextTraits() throws {
        let e = try decode(#"{"type":"track","event":"Demo Requested","messageId":"m1","userId":"u1","anonymousId":"a1","timestamp":"2026-03-01T10:00:00.250Z","properties":{"plan":"pro","nested":{"a":[1,2,{"b":null}]}},"context":{"ip":"1.2.3.4","traits":{"title":"CTO","employees":120,"vip":true,"x":null,"tags":["a"]}}}"#)
        #expect(e.kind == .track)
        #expect(e.eventName == "Demo Requested")
        #expect(e.contactId == "u1")
        #expect(e.messageId == "m1")
        #expect(e.timestamp == ISO8601.parse("2026-03-01T10:00:00.250Z"))
        #expect(e.traits.count == 5)
        #expect(e.traits[0].name == "title" && e.traits[0].value == .string("CTO"))
        #expect(e.traits[1].value == .number(120))
        #expect(e.traits[2].value == .bool(true))
        #expect(e.traits[3].value == .null)
        #expect(e.traits[4].value == .other)
    }

    @Test func contactIsUserIdWhenNonEmptyElseAnonymousId() throws {
        #expect(try decode(#"{"type":"track","event":"x","messageId":"m","userId":"","anonymousId":"anon","timestamp":"2026-01-01T00:00:00Z"}"#).contactId == "anon")
        #expect(try decode(#"{"type":"track","event":"x","messageId":"m","userId":42,"anonymousId":"anon","timestamp":"2026-01-01T00:00:00Z"}"#).contactId == "anon")
        #expect(reason(#"{"type":"track","event":"x","messageId":"m","userId":"","timestamp":"2026-01-01T00:00:00Z"}"#) == .missingContactId)
    }

    @Test func identifyTraitsWinOverContextTraits() throws {
        let e = try decode(#"{"type":"identify","messageId":"m","userId":"u","timestamp":"2026-01-01T00:00:00Z","traits":{"title":"VP"},"context":{"traits":{"title":"Intern","industry":"saas"}}}"#)
        #expect(e.traits.map(\.name) == ["title", "industry", "title"])
        #expect(e.traits.last?.value == .string("VP"))
    }

    @Test func pagePathFromPathOrURL() throws {
        func path(_ props: String) throws -> String? {
            try decode(#"{"type":"page","messageId":"m","userId":"u","timestamp":"2026-01-01T00:00:00Z","properties":"# + props + "}").pagePath
        }
        #expect(try path(#"{"path":"/pricing","url":"https://x.com/other"}"#) == "/pricing")
        #expect(try path(#"{"url":"https://x.com/pricing/team?utm=1#top"}"#) == "/pricing/team")
        #expect(try path(#"{"url":"https://x.com"}"#) == nil)
        #expect(try path(#"{}"#) == nil)
        let screen = try decode(#"{"type":"screen","messageId":"m","userId":"u","timestamp":"2026-01-01T00:00:00Z","properties":{"path":"/pricing"}}"#)
        #expect(screen.pagePath == nil)
    }

    @Test func escapesAndUnicode() throws {
        let e = try decode(#"{"type":"track","event":"Caf\u00e9 \"Opened\" \ud83d\ude00","messageId":"m\n1","userId":"ü","timestamp":"2026-01-01T00:00:00Z"}"#)
        #expect(e.eventName == "Café \"Opened\" 😀")
        #expect(e.messageId == "m\n1")
        #expect(e.contactId == "ü")
    }

    /// Strings of every length with a quote, backslash escape, control character or multi-byte character at
    /// every position (the scanner reads 8 bytes at a time and jumps to the first special one): decoded like
    /// Foundation's JSON parser, and rejected exactly when it rejects them.
    @Test func stringScanningAgreesWithFoundationAtEveryPosition() throws {
        let pieces = [#"\""#, #"\\"#, #"\n"#, #"\u00e9"#, "é", "\u{01}", "\u{7F}", "😀", "\""]
        for length in 0..<20 {
            for position in 0...length {
                for piece in pieces {
                    let text = String(repeating: "a", count: position) + piece + String(repeating: "b", count: length - position)
                    let json = #"{"type":"track","event":""# + text + #"","messageId":"m","userId":"u","timestamp":"2026-01-01T00:00:00Z"}"#
                    let reference = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any]
                    let ours = try? decode(json)
                    #expect((ours == nil) == (reference == nil), "\(json)")
                    if let ours, let reference { #expect(ours.eventName == reference["event"] as? String, "\(json)") }
                }
            }
        }
    }

    @Test func everyInvalidCaseHasItsReason() {
        let ok = #""messageId":"m","userId":"u","timestamp":"2026-01-01T00:00:00Z""#
        #expect(reason("") == .notJSONObject)
        #expect(reason("[1,2]") == .notJSONObject)
        #expect(reason("\"str\"") == .notJSONObject)
        #expect(reason(#"{"type":"track","#) == .notJSONObject)
        #expect(reason("{\"type\":\"track\",\(ok)} trailing") == .notJSONObject)
        #expect(reason("{\"type\":\"track\",\(ok),}") == .notJSONObject)
        #expect(reason("{\"type\":\"bogus\",\(ok)}") == .unknownType)
        #expect(reason(#"{"messageId":"m","userId":"u","timestamp":"2026-01-01T00:00:00Z"}"#) == .unknownType)
        #expect(reason(#"{"type":"track","userId":"u","timestamp":"2026-01-01T00:00:00Z"}"#) == .missingMessageId)
        #expect(reason(#"{"type":"track","messageId":"m","timestamp":"2026-01-01T00:00:00Z"}"#) == .missingContactId)
        #expect(reason(#"{"type":"track","messageId":"m","userId":"u"}"#) == .badTimestamp)
        #expect(reason(#"{"type":"track","messageId":"m","userId":"u","timestamp":"2026-01-01T00:00:00"}"#) == .badTimestamp)
        #expect(reason(#"{"type":"track","messageId":"m","userId":"u","timestamp":"yesterday"}"#) == .badTimestamp)
        #expect(reason(#"{"type":"track","messageId":"m","userId":"u","timestamp":1767225600}"#) == .badTimestamp)
        #expect(reason("{\"type\":\"track\",\(ok),\"properties\":[1]}") == .badProperties)
        #expect(reason("{\"type\":\"identify\",\(ok),\"traits\":\"x\"}") == .badTraits)
        #expect(reason("{\"type\":\"track\",\(ok),\"context\":5}") == .badContext)
        #expect(reason("{\"type\":\"track\",\(ok),\"context\":{\"traits\":[]}}") == .badContext)
    }

    @Test func garbageAndDeepNestingNeverCrash() {
        var rng = SystemRandomNumberGenerator()
        let garbage = (0..<100_000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        #expect(throws: InvalidEvent.self) { try SegmentDecoder.decode(garbage) }
        let deep = "{\"type\":\"track\",\"x\":" + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "}"
        #expect(reason(deep) == .notJSONObject)
    }

    @Test func groupAndAliasAreValid() throws {
        #expect(try decode(#"{"type":"group","groupId":"g","messageId":"m","userId":"u","timestamp":"2026-01-01T00:00:00Z"}"#).kind == .group)
        #expect(try decode(#"{"type":"alias","previousId":"p","messageId":"m","userId":"u","timestamp":"2026-01-01T00:00:00Z"}"#).kind == .alias)
    }
}

@Suite struct ISO8601Tests {
    @Test func parsesOffsetsFractionsAndLeapDays() {
        let base = ISO8601.parse("2026-01-01T00:00:00Z")!
        #expect(base == 1_767_225_600_000_000)
        #expect(ISO8601.parse("2026-01-01T01:00:00+01:00") == base)
        #expect(ISO8601.parse("2025-12-31T19:00:00-0500") == base)
        #expect(ISO8601.parse("2026-01-01T02:00:00+02") == base)
        #expect(ISO8601.parse("2026-01-01T00:00:00.5Z") == base + 500_000)
        #expect(ISO8601.parse("2026-01-01T00:00:00.123456789Z") == base + 123_456)
        #expect(ISO8601.parse("2024-02-29T12:00:00Z") != nil)
        #expect(ISO8601.parse("2023-02-29T12:00:00Z") == nil)
        #expect(ISO8601.parse("2026-13-01T00:00:00Z") == nil)
        #expect(ISO8601.parse("2026-01-01T24:00:00Z") == nil)
        #expect(ISO8601.parse("2026-01-01 00:00:00Z") == nil)
        #expect(ISO8601.parse("2026-01-01T00:00:00.Z") == nil)
        #expect(ISO8601.parse("2026-01-01T00:00:00Zjunk") == nil)
        #expect(ISO8601.parse("1969-12-31T23:59:59.999Z") == -1000)
    }

    /// The word-at-a-time reading of `YYYY-MM-DDTHH:MM:SS` agrees with reading it byte by byte, for valid
    /// texts and for every position replaced by a digit, separator, letter or high byte.
    @Test func fixedPartAgreesWithAByteByByteReading() {
        func reference(_ b: [UInt8]) -> (Int, Int, Int, Int, Int, Int)? {
            guard b.count >= 19 else { return nil }
            func num(_ r: Range<Int>) -> Int? {
                var v = 0
                for k in r { guard b[k] >= 0x30 && b[k] <= 0x39 else { return nil }; v = v * 10 + Int(b[k] - 0x30) }
                return v
            }
            guard b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54 || b[10] == 0x74, b[13] == 0x3A, b[16] == 0x3A,
                  let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10), let h = num(11..<13),
                  let mi = num(14..<16), let s = num(17..<19) else { return nil }
            return (y, mo, d, h, mi, s)
        }
        var rng = SeededRandom(seed: 17)
        let alphabet = Array("0123456789-:Tt/ Z+.".utf8) + [0x00, 0x2F, 0x3A, 0x40, 0x80, 0xBA, 0xFA, 0xFF]
        let valid = Array("2026-07-15T23:59:58.123Z".utf8)
        for trial in 0..<20_000 {
            var b = valid
            for _ in 0..<(trial % 3) { b[Int(rng.next() % 19)] = alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            if trial % 7 == 0 { for k in [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18] { b[k] = UInt8(0x30 + rng.next() % 10) } }
            let fast = b.withUnsafeBytes { ISO8601.fixedPart($0) }
            let slow = reference(b)
            #expect(fast.map { [$0.0, $0.1, $0.2, $0.3, $0.4, $0.5] } == slow.map { [$0.0, $0.1, $0.2, $0.3, $0.4, $0.5] }, "\(b)")
        }
        #expect(Array("2026-07-15T23:59".utf8).withUnsafeBytes { ISO8601.fixedPart($0) } == nil)   // too short
    }

    @Test func formatsMillisecondsTruncated() {
        #expect(ISO8601.formatMillis(1_767_225_600_123_999) == "2026-01-01T00:00:00.123Z")
        #expect(ISO8601.formatMillis(0) == "1970-01-01T00:00:00.000Z")
        #expect(ISO8601.formatMillis(-1) == "1969-12-31T23:59:59.999Z")
        #expect(ISO8601.formatMillis(ISO8601.parse("2024-02-29T23:59:59.9Z")!) == "2024-02-29T23:59:59.900Z")
    }
}

@Suite struct PartitionerTests {
    @Test func crc32MatchesZlib() {
        #expect(Partitioner.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(Partitioner.crc32([UInt8]()) == 0)
    }

    /// The slicing-by-8 loop equals the bytewise definition for every length and alignment (word part,
    /// tail, both), for slices and non-contiguous sequences too.
    @Test func slicingBy8AgreesWithTheBytewiseDefinition() {
        func reference(_ b: some Sequence<UInt8>) -> UInt32 {
            var c: UInt32 = 0xFFFF_FFFF
            for x in b {
                c ^= UInt32(x)
                for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            }
            return c ^ 0xFFFF_FFFF
        }
        var rng = SystemRandomNumberGenerator()
        let data = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &rng) }
        for start in 0..<9 {
            for length in 0..<70 {
                let slice = data[start..<(start + length)]
                #expect(Partitioner.crc32(slice) == reference(slice), "start \(start) length \(length)")
            }
        }
        #expect(Partitioner.crc32(data) == reference(data))
        // In pieces (checkpoint files are checksummed as they are written).
        for cut in [0, 1, 7, 8, 100, 4095, 4096] {
            let head = data.withUnsafeBytes { Partitioner.crc32(UnsafeRawBufferPointer(rebasing: $0[..<cut])) }
            let whole = data.withUnsafeBytes { Partitioner.crc32(UnsafeRawBufferPointer(rebasing: $0[cut...]), continuing: head) }
            #expect(whole == reference(data), "cut at \(cut)")
        }
        #expect(Partitioner.crc32(data.lazy.map { $0 }) == reference(data))
    }

    @Test func partitionIsCRCModCount() {
        #expect(Partitioner.partition(key: "123456789", count: 7) == Int(0xCBF4_3926 % 7))
        #expect(Partitioner.partition(key: "", count: 5) == 0)
    }

    /// Observed with kcat (librdkafka 2.0.2's default partitioner) producing keys k1…k10 to 4 partitions.
    @Test func agreesWithLibrdkafkasDefaultPartitioner() {
        let observed = ["k1": 1, "k2": 3, "k3": 1, "k4": 2, "k5": 0, "k6": 2, "k7": 0, "k8": 1, "k9": 3, "k10": 1]
        for (k, p) in observed { #expect(Partitioner.partition(key: k, count: 4) == p, "\(k)") }
    }

    @Test func stableHashIsFNV1a() {
        #expect(StableHash.fnv1a64("") == 0xcbf2_9ce4_8422_2325)
        #expect(StableHash.fnv1a64("a") == 0xaf63_dc4c_8601_ec8c)
    }
}
