/// Decodes Segment-spec events (CONTRACTS §2) straight from Kafka's buffer: one pass, only the fields the
/// engine uses are materialized, everything else is validated and skipped.
public enum SegmentDecoder {
    public static func decode(_ bytes: [UInt8], interner: StringInterner? = nil) throws(InvalidEvent) -> SegmentEvent {
        var result: Result<SegmentEvent, InvalidEvent>!
        bytes.withUnsafeBytes { b in
            do throws(InvalidEvent) { result = .success(try decode(b, interner: interner)) } catch { result = .failure(error) }
        }
        return try result.get()
    }

    /// - Parameter interner: shares the Strings of repeated texts (event names, paths, traits) between events.
    /// - Throws: `InvalidEvent` with the reason that goes to the dead-letter record.
    public static func decode(_ bytes: UnsafeRawBufferPointer, interner: StringInterner? = nil) throws(InvalidEvent) -> SegmentEvent {
        SegmentEvent(try scan(bytes), in: bytes, interner: interner)
    }

    /// Validates the event as `decode` does (same errors) and returns where its fields are, without making a
    /// String (the engine's fast path).
    public static func scan(_ bytes: UnsafeRawBufferPointer) throws(InvalidEvent) -> RawSegmentEvent {
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
        return try fields.event(bytes)
    }

    /// The raw fields collected from one document (places in it); validated by `event(_:)`.
    struct Fields {
        /// The recognized `type`; `typeText` keeps an unrecognized one for the error message.
        var kind: SegmentEvent.Kind?
        var typeText: String?
        var messageId: TextSpan?
        var userId: TextSpan?
        var anonymousId: TextSpan?
        /// The timestamp's text, kept only when it did not parse (for the error message) or had escapes.
        var timestamp: String?
        /// The parsed timestamp (parsed straight from the buffer: no String for the common case).
        var time: EventTime?
        var timestampPresent = false
        var eventName: TextSpan?
        var path: TextSpan?
        /// The path of `properties.url`: a place in it, or (escaped URL) its own text.
        var urlPath: RawSegmentEvent.PagePath?
        var propertiesBad = false
        var traitsBad = false
        var contextBad = false
        var contextTraitsBad = false
        /// The `traits` and `context.traits` objects (validated, read when applied).
        var traits: TextSpan?
        var contextTraits: TextSpan?

        func event(_ bytes: UnsafeRawBufferPointer) throws(InvalidEvent) -> RawSegmentEvent {
            guard let kind else {
                guard let typeText else { throw InvalidEvent(.unknownType, "missing type") }
                throw InvalidEvent(.unknownType, "unknown type \"\(typeText.prefix(64))\"")
            }
            // An id is empty when its text is: escapes always stand for at least one character.
            guard let messageId, !messageId.isEmpty else { throw InvalidEvent(.missingMessageId, "missing messageId") }
            let contact: TextSpan
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

            let objects: (TextSpan?, TextSpan?)
            switch kind {
            case .identify: objects = (contextTraits, traits)   // `traits` wins over context.traits: it comes later
            case .track, .page, .screen: objects = (contextTraits, nil)
            case .group, .alias: objects = (nil, nil)
            }
            return RawSegmentEvent(kind: kind, timestamp: t, messageId: messageId, contactId: contact,
                                   eventName: kind == .track ? eventName : nil,
                                   pagePath: kind == .page ? (path.map { .span($0) } ?? urlPath) : nil,
                                   traitObjects: objects)
        }

        /// The path of a URL (`https://x.com/pricing?a=1` → `/pricing`); nil when it has none.
        static func path(ofURL url: String) -> String? {
            withUTF8Bytes(url) { b in
                pathRange(ofURL: b).map { String(decoding: UnsafeRawBufferPointer(rebasing: b[$0]), as: UTF8.self) }
            }
        }

        /// The same on the URL's UTF-8 bytes: scheme `x://`, then host up to the first `/`; or a bare `/…`.
        static func pathRange(ofURL b: UnsafeRawBufferPointer) -> Range<Int>? {
            let n = b.count
            var start = 0
            if let colon = b.firstIndex(of: 0x3A), colon + 2 < n, b[colon + 1] == 0x2F, b[colon + 2] == 0x2F {
                var j = colon + 3
                while j < n && b[j] != 0x2F { j += 1 }
                guard j < n else { return nil }
                start = j
            } else if n == 0 || b[0] != 0x2F {
                return nil
            }
            var end = start
            while end < n && b[end] != 0x3F && b[end] != 0x23 { end += 1 }   // ? #
            return end == start ? nil : start..<end
        }
    }

    /// `type` from its raw (unescaped) bytes.
    /// Each name as one little-endian word (`JSONScanner.word`): "page" is 0x65676170.
    private static func kind(_ s: JSONScanner, _ r: Range<Int>) -> SegmentEvent.Kind? {
        guard r.count <= 8 else { return nil }
        let w = s.word(at: r.lowerBound, count: r.count)
        switch r.count {
        case 4: return w == 0x6567_6170 ? .page : nil
        case 5:
            if w == 0x6B_6361_7274 { return .track }
            if w == 0x70_756F_7267 { return .group }
            return w == 0x73_6169_6C61 ? .alias : nil
        case 6: return w == 0x6E65_6572_6373 ? .screen : nil
        case 8: return w == 0x7966_6974_6E65_6469 ? .identify : nil
        default: return nil
        }
    }

    private static func readTopLevel(_ s: inout JSONScanner, into f: inout Fields) throws {
        try forEachMember(&s) { s, k, escaped, _ in
            switch escaped ? StaticKey.none : StaticKey(s, k) {
            case .type:
                f.kind = nil; f.typeText = nil
                if s.peek() == 0x22 {
                    let (r, escaped, _) = try s.scanString()
                    let raw = UnsafeRawBufferPointer(rebasing: s.bytes[r])
                    if escaped {   // rare: match the unescaped text
                        let text = JSONScanner.unescape(raw)
                        f.kind = withUTF8Bytes(text) { kind(JSONScanner($0), 0..<$0.count) }
                        if f.kind == nil { f.typeText = text }
                    } else {
                        f.kind = kind(s, r)
                        if f.kind == nil { f.typeText = String(decoding: raw, as: UTF8.self) }
                    }
                } else {
                    f.typeText = "(not a string)"; try s.skipValue()
                }
            case .messageId: f.messageId = try optionalSpan(&s)
            case .userId: f.userId = try optionalSpan(&s)
            case .anonymousId: f.anonymousId = try optionalSpan(&s)
            case .timestamp:
                f.timestampPresent = true
                if s.peek() == 0x22 {
                    let (r, escaped, _) = try s.scanString()
                    let raw = UnsafeRawBufferPointer(rebasing: s.bytes[r])
                    if !escaped, let t = ISO8601.parse(raw) { f.time = t; f.timestamp = nil } else {
                        f.time = nil
                        f.timestamp = escaped ? JSONScanner.unescape(raw) : String(decoding: raw, as: UTF8.self)
                    }
                } else {
                    f.time = nil; f.timestamp = nil; try s.skipValue()
                }
            case .event: f.eventName = try optionalSpan(&s)
            case .properties:
                if s.peek() == 0x7B { f.propertiesBad = false; try readProperties(&s, into: &f) } else { f.propertiesBad = true; try s.skipValue() }
            case .traits:
                if s.peek() == 0x7B { f.traitsBad = false; f.traits = try objectSpan(&s) } else { f.traitsBad = true; try s.skipValue() }
            case .context:
                if s.peek() == 0x7B { f.contextBad = false; try readContext(&s, into: &f) } else { f.contextBad = true; try s.skipValue() }
            case .none, .path, .url:
                try s.skipValue()
            }
        }
    }

    /// A string value's place, or nil (and skipped) when the value is not a string.
    private static func optionalSpan(_ s: inout JSONScanner) throws -> TextSpan? {
        if s.peek() == 0x22 { let (r, escaped, ascii) = try s.scanString(); return TextSpan(r, escaped: escaped, ascii: ascii) }
        try s.skipValue()
        return nil
    }

    /// Validates the object at the cursor (a member of a top-level member: depth as `readTraits` reads it)
    /// and returns its place, braces included.
    private static func objectSpan(_ s: inout JSONScanner) throws -> TextSpan {
        let start = s.i
        try s.skipValue(depth: 1)
        return TextSpan(start..<s.i, escaped: false)
    }

    /// Each member of the object at the cursor: `body` gets the key's range, whether it has escapes and whether
    /// it is ASCII (`JSONScanner.scanString`), with the cursor at the value, which it must consume.
    private static func forEachMember(_ s: inout JSONScanner, _ body: (inout JSONScanner, Range<Int>, Bool, Bool) throws -> Void) throws {
        try s.expect(0x7B)
        s.skipWhitespace()
        if s.peek() == 0x7D { s.i += 1; return }
        while true {
            s.skipWhitespace()
            let (k, escaped, ascii) = try s.scanString()
            try s.expect(0x3A)
            s.skipWhitespace()
            try body(&s, k, escaped, ascii)
            s.skipWhitespace()
            guard let n = s.peek() else { throw JSONScanner.Malformed() }
            s.i += 1
            if n == 0x7D { return }
            guard n == 0x2C else { throw JSONScanner.Malformed() }
        }
    }

    private static func readProperties(_ s: inout JSONScanner, into f: inout Fields) throws {
        try forEachMember(&s) { s, k, escaped, _ in
            switch escaped ? StaticKey.none : StaticKey(s, k) {
            case .path: f.path = try optionalSpan(&s)
            case .url:
                f.urlPath = nil
                if s.peek() == 0x22 {
                    let (r, escaped, _) = try s.scanString()
                    let raw = UnsafeRawBufferPointer(rebasing: s.bytes[r])
                    if escaped {
                        f.urlPath = Fields.path(ofURL: JSONScanner.unescape(raw)).map { .text($0) }
                    } else {
                        f.urlPath = Fields.pathRange(ofURL: raw).map { .span(TextSpan(($0.lowerBound + r.lowerBound)..<($0.upperBound + r.lowerBound), escaped: false)) }
                    }
                } else {
                    try s.skipValue()
                }
            default: try s.skipValue(depth: 1)
            }
        }
    }

    private static func readContext(_ s: inout JSONScanner, into f: inout Fields) throws {
        try forEachMember(&s) { s, k, escaped, _ in
            if !escaped && k.count == 6 && s.word(at: k.lowerBound, count: 6) == 0x7374_6961_7274 {   // "traits"
                if s.peek() == 0x7B { f.contextTraitsBad = false; f.contextTraits = try objectSpan(&s) } else { f.contextTraitsBad = true; try s.skipValue(depth: 1) }
            } else {
                try s.skipValue(depth: 1)
            }
        }
    }

    /// A trait's value as scanned: a string still in the message, or any other value.
    enum RawTraitValue {
        case text(TextSpan)
        case value(TraitValue)
    }

    /// The members of a trait object that `scan` validated (`object`: its place, braces included), in
    /// document order (a repeated name comes again: the later value wins where they are applied in order).
    static func forEachTrait(in object: TextSpan, of bytes: UnsafeRawBufferPointer, _ body: (TextSpan, RawTraitValue) -> Void) {
        var s = JSONScanner(bytes)
        s.i = Int(object.start)
        // Cannot throw: `scan` validated these bytes with the same scanner.
        try? forEachMember(&s) { s, k, escaped, ascii in
            let value: RawTraitValue
            switch s.peek() {
            case 0x22: let (r, e, a) = try s.scanString(); value = .text(TextSpan(r, escaped: e, ascii: a))
            case 0x74: try s.literal("true"); value = .value(.bool(true))
            case 0x66: try s.literal("false"); value = .value(.bool(false))
            case 0x6E: try s.literal("null"); value = .value(.null)
            case 0x7B, 0x5B: try s.skipValue(depth: 2); value = .value(.other)
            default:
                let r = try s.scanNumber()
                value = .value(number(UnsafeRawBufferPointer(rebasing: s.bytes[r])).map { .number($0) } ?? .other)
            }
            body(TextSpan(k, escaped: escaped, ascii: ascii), value)
        }
    }

    /// A trait object as (name, value) Strings, a repeated name keeping its first place and its last value.
    static func readTraits(in object: TextSpan, of bytes: UnsafeRawBufferPointer, interner: StringInterner?) -> [(name: String, value: TraitValue)] {
        var out: [(name: String, value: TraitValue)] = []
        forEachTrait(in: object, of: bytes) { k, raw in
            let name = k.string(in: bytes, interner: interner)
            let value: TraitValue
            switch raw {
            case .text(let t): value = .string(t.string(in: bytes, interner: interner))
            case .value(let v): value = v
            }
            if let i = out.firstIndex(where: { $0.name == name }) { out[i].value = value } else { out.append((name, value)) }
        }
        return out
    }

    /// A validated JSON number's value: integers of up to 15 digits exactly without a String (titles and
    /// head counts are small integers), anything else through the standard library's parser.
    static func number(_ b: UnsafeRawBufferPointer) -> Double? {
        let negative = b.first == 0x2D
        let digits = b.count - (negative ? 1 : 0)
        if digits > 0 && digits <= 15 {
            var v: Int64 = 0
            var plain = true
            for j in (negative ? 1 : 0)..<b.count {
                let c = b[j]
                guard c >= 0x30 && c <= 0x39 else { plain = false; break }
                v = v * 10 + Int64(c - 0x30)
            }
            if plain { return negative ? (v == 0 ? -0.0 : -Double(v)) : Double(v) }
        }
        return Double(String(decoding: b, as: UTF8.self))
    }

    /// The keys the decoder looks at, recognized from raw bytes.
    private enum StaticKey {
        case type, messageId, userId, anonymousId, timestamp, event, properties, traits, context, path, url, none

        /// By length first, then the first 8 bytes as one word (`JSONScanner.word`: "type" is 0x65707974) and the
        /// rest as a second: most keys cost one load and one comparison.
        init(_ s: JSONScanner, _ r: Range<Int>) {
            let n = r.count
            guard n >= 3 && n <= 11 else { self = .none; return }
            let w = s.word(at: r.lowerBound, count: n)
            let rest = n > 8 ? s.word(at: r.lowerBound + 8, count: n - 8) : 0
            switch n {
            case 3: self = w == 0x6C_7275 ? .url : .none
            case 4: self = w == 0x6570_7974 ? .type : (w == 0x6874_6170 ? .path : .none)
            case 5: self = w == 0x74_6E65_7665 ? .event : .none
            case 6: self = w == 0x6449_7265_7375 ? .userId : (w == 0x7374_6961_7274 ? .traits : .none)
            case 7: self = w == 0x74_7865_746E_6F63 ? .context : .none
            case 9:
                if w == 0x4965_6761_7373_656D && rest == 0x64 { self = .messageId }              // "messageI" "d"
                else if w == 0x6D61_7473_656D_6974 && rest == 0x70 { self = .timestamp }         // "timestam" "p"
                else { self = .none }
            case 10: self = w == 0x6974_7265_706F_7270 && rest == 0x7365 ? .properties : .none   // "properti" "es"
            case 11: self = w == 0x756F_6D79_6E6F_6E61 && rest == 0x64_4973 ? .anonymousId : .none   // "anonymou" "sId"
            default: self = .none
            }
        }
    }
}
