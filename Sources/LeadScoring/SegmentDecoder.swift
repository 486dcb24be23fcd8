/// Decodes Segment-spec events (CONTRACTS §2) straight from Kafka's buffer: one pass, only the fields the
/// engine uses are materialized, everything else is validated and skipped.
public enum SegmentDecoder {
    public static func decode(_ bytes: [UInt8]) throws(InvalidEvent) -> SegmentEvent {
        var result: Result<SegmentEvent, InvalidEvent>!
        bytes.withUnsafeBytes { b in
            do throws(InvalidEvent) { result = .success(try decode(b)) } catch { result = .failure(error) }
        }
        return try result.get()
    }

    /// - Throws: `InvalidEvent` with the reason that goes to the dead-letter record.
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(InvalidEvent) -> SegmentEvent {
        var s = JSONScanner(bytes)
        var fields = Fields()
        do {
            s.skipWhitespace()
            guard s.peek() == 0x7B else { throw InvalidEvent(.notJSONObject, "not a JSON object") }
            try readTopLevel(&s, into: &fields)
            s.skipWhitespace()
            guard s.atEnd else { throw InvalidEvent(.notJSONObject, "trailing data after the JSON object") }
        } catch let e as InvalidEvent {
            throw e
        } catch {
            throw InvalidEvent(.notJSONObject, "malformed JSON near byte \(s.i)")
        }
        return try fields.event()
    }

    /// The raw fields collected from one document; validated by `event()`.
    struct Fields {
        var type: String?
        var typeIsString = true
        var messageId: String?
        var userId: String?
        var anonymousId: String?
        /// The timestamp's text, kept only when it did not parse (for the error message) or had escapes.
        var timestamp: String?
        /// The parsed timestamp (parsed straight from the buffer: no String for the common case).
        var time: EventTime?
        var timestampPresent = false
        var eventName: String?
        var path: String?
        var url: String?
        var propertiesBad = false
        var traitsBad = false
        var contextBad = false
        var contextTraitsBad = false
        var traits: [(name: String, value: TraitValue)] = []
        var contextTraits: [(name: String, value: TraitValue)] = []

        func event() throws(InvalidEvent) -> SegmentEvent {
            guard let type else { throw InvalidEvent(.unknownType, "missing type") }
            let kind: SegmentEvent.Kind
            switch type {
            case "track": kind = .track
            case "identify": kind = .identify
            case "page": kind = .page
            case "screen": kind = .screen
            case "group": kind = .group
            case "alias": kind = .alias
            default: throw InvalidEvent(.unknownType, "unknown type \"\(type.prefix(64))\"")
            }
            guard let messageId, !messageId.isEmpty else { throw InvalidEvent(.missingMessageId, "missing messageId") }
            let contact: String
            if let u = userId, !u.isEmpty { contact = u } else if let a = anonymousId, !a.isEmpty { contact = a } else {
                throw InvalidEvent(.missingContactId, "no userId or anonymousId")
            }
            guard timestampPresent else { throw InvalidEvent(.badTimestamp, "missing timestamp") }
            guard let t = time ?? timestamp.flatMap(ISO8601.parse) else {
                throw InvalidEvent(.badTimestamp, "timestamp is not an ISO-8601 date-time with offset: \(timestamp.map { "\"\($0.prefix(64))\"" } ?? "not a string")")
            }
            if propertiesBad { throw InvalidEvent(.badProperties, "properties is not an object") }
            if traitsBad { throw InvalidEvent(.badTraits, "traits is not an object") }
            if contextBad { throw InvalidEvent(.badContext, "context is not an object") }
            if contextTraitsBad { throw InvalidEvent(.badContext, "context.traits is not an object") }

            var ev = SegmentEvent(kind: kind, messageId: messageId, contactId: contact, timestamp: t)
            switch kind {
            case .track: ev.eventName = eventName
            case .page: ev.pagePath = path ?? url.flatMap(Self.path(ofURL:))
            default: break
            }
            switch kind {
            case .identify: ev.traits = contextTraits + traits   // `traits` wins over context.traits
            case .track, .page, .screen: ev.traits = contextTraits
            case .group, .alias: break
            }
            return ev
        }

        /// The path of a URL (`https://x.com/pricing?a=1` → `/pricing`); nil when it has none.
        static func path(ofURL url: String) -> String? {
            var rest = Substring(url)
            if let colon = rest.firstIndex(of: ":"), rest[colon...].hasPrefix("://") {
                rest = rest[rest.index(colon, offsetBy: 3)...]
                guard let slash = rest.firstIndex(of: "/") else { return nil }
                rest = rest[slash...]
            } else if !rest.hasPrefix("/") {
                return nil
            }
            if let q = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<q] }
            return rest.isEmpty ? nil : String(rest)
        }
    }

    private static func readTopLevel(_ s: inout JSONScanner, into f: inout Fields) throws {
        try forEachMember(&s) { s, k, escaped in
            switch escaped ? StaticKey.none : StaticKey(s, k) {
            case .type:
                if s.peek() == 0x22 { f.type = try s.readString() } else { f.type = "(not a string)"; try s.skipValue() }
            case .messageId: f.messageId = try optionalString(&s)
            case .userId: f.userId = try optionalString(&s)
            case .anonymousId: f.anonymousId = try optionalString(&s)
            case .timestamp:
                f.timestampPresent = true
                if s.peek() == 0x22 {
                    let (r, escaped) = try s.scanString()
                    let raw = UnsafeRawBufferPointer(rebasing: s.bytes[r])
                    if !escaped, let t = ISO8601.parse(raw) { f.time = t; f.timestamp = nil } else {
                        f.time = nil
                        f.timestamp = escaped ? JSONScanner.unescape(raw) : String(decoding: raw, as: UTF8.self)
                    }
                } else {
                    f.time = nil; f.timestamp = nil; try s.skipValue()
                }
            case .event: f.eventName = try optionalString(&s)
            case .properties:
                if s.peek() == 0x7B { f.propertiesBad = false; try readProperties(&s, into: &f) } else { f.propertiesBad = true; try s.skipValue() }
            case .traits:
                if s.peek() == 0x7B { f.traitsBad = false; f.traits = try readTraits(&s) } else { f.traitsBad = true; try s.skipValue() }
            case .context:
                if s.peek() == 0x7B { f.contextBad = false; try readContext(&s, into: &f) } else { f.contextBad = true; try s.skipValue() }
            case .none, .path, .url:
                try s.skipValue()
            }
        }
    }

    /// A string value, or nil (and skipped) when the value is not a string.
    private static func optionalString(_ s: inout JSONScanner) throws -> String? {
        if s.peek() == 0x22 { return try s.readString() }
        try s.skipValue()
        return nil
    }

    private static func forEachMember(_ s: inout JSONScanner, _ body: (inout JSONScanner, Range<Int>, Bool) throws -> Void) throws {
        try s.expect(0x7B)
        s.skipWhitespace()
        if s.peek() == 0x7D { s.i += 1; return }
        while true {
            s.skipWhitespace()
            let (k, escaped) = try s.scanString()
            try s.expect(0x3A)
            s.skipWhitespace()
            try body(&s, k, escaped)
            s.skipWhitespace()
            guard let n = s.peek() else { throw JSONScanner.Malformed() }
            s.i += 1
            if n == 0x7D { return }
            guard n == 0x2C else { throw JSONScanner.Malformed() }
        }
    }

    private static func readProperties(_ s: inout JSONScanner, into f: inout Fields) throws {
        try forEachMember(&s) { s, k, escaped in
            switch escaped ? StaticKey.none : StaticKey(s, k) {
            case .path: f.path = try optionalString(&s)
            case .url: f.url = try optionalString(&s)
            default: try s.skipValue(depth: 1)
            }
        }
    }

    private static func readContext(_ s: inout JSONScanner, into f: inout Fields) throws {
        try forEachMember(&s) { s, k, escaped in
            if !escaped && s.rawEquals(k, "traits") {
                if s.peek() == 0x7B { f.contextTraitsBad = false; f.contextTraits = try readTraits(&s) } else { f.contextTraitsBad = true; try s.skipValue(depth: 1) }
            } else {
                try s.skipValue(depth: 1)
            }
        }
    }

    private static func readTraits(_ s: inout JSONScanner) throws -> [(name: String, value: TraitValue)] {
        var out: [(name: String, value: TraitValue)] = []
        try forEachMember(&s) { s, k, escaped in
            let slice = UnsafeRawBufferPointer(rebasing: s.bytes[k])
            let name = escaped ? JSONScanner.unescape(slice) : String(decoding: slice, as: UTF8.self)
            let value: TraitValue
            switch s.peek() {
            case 0x22: value = .string(try s.readString())
            case 0x74: try s.literal("true"); value = .bool(true)
            case 0x66: try s.literal("false"); value = .bool(false)
            case 0x6E: try s.literal("null"); value = .null
            case 0x7B, 0x5B: try s.skipValue(depth: 2); value = .other
            default:
                let r = try s.scanNumber()
                let text = String(decoding: UnsafeRawBufferPointer(rebasing: s.bytes[r]), as: UTF8.self)
                value = Double(text).map { .number($0) } ?? .other
            }
            if let i = out.firstIndex(where: { $0.name == name }) { out[i].value = value } else { out.append((name, value)) }
        }
        return out
    }

    /// The keys the decoder looks at, recognized from raw bytes.
    private enum StaticKey {
        case type, messageId, userId, anonymousId, timestamp, event, properties, traits, context, path, url, none

        init(_ s: JSONScanner, _ r: Range<Int>) {
            if s.rawEquals(r, "type") { self = .type }
            else if s.rawEquals(r, "messageId") { self = .messageId }
            else if s.rawEquals(r, "userId") { self = .userId }
            else if s.rawEquals(r, "anonymousId") { self = .anonymousId }
            else if s.rawEquals(r, "timestamp") { self = .timestamp }
            else if s.rawEquals(r, "event") { self = .event }
            else if s.rawEquals(r, "properties") { self = .properties }
            else if s.rawEquals(r, "traits") { self = .traits }
            else if s.rawEquals(r, "context") { self = .context }
            else if s.rawEquals(r, "path") { self = .path }
            else if s.rawEquals(r, "url") { self = .url }
            else { self = .none }
        }
    }
}
