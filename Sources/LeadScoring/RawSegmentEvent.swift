/// A validated Segment event whose texts are still where they arrived: places in the message's bytes.
///
/// `SegmentDecoder.scan` makes one without creating a single String; the daemon hands it with the message's
/// bytes to `PartitionEngine.apply(_:in:trigger:into:)`, which hashes and compares those bytes directly — a
/// String is made only for a new contact or an output record. (Strings for every field — ids, names, paths,
/// traits — were ~30 % of decoding.) `SegmentEvent(_:in:)` turns it into the Strings form for everything else.
///
/// Only valid while the bytes it was scanned from are: it holds offsets, not the bytes.
public struct RawSegmentEvent: Sendable {
    public let kind: SegmentEvent.Kind
    /// Event time (µs).
    public let timestamp: EventTime
    let messageId: TextSpan
    /// `userId` when it is a non-empty string, else `anonymousId`.
    let contactId: TextSpan
    /// `event` of a `track`.
    let eventName: TextSpan?
    /// Page events: `properties.path`, else the path of `properties.url`.
    let pagePath: PagePath?
    /// The trait objects that apply, in application order (`context.traits`, then `traits` on identify; a
    /// later value of a name overrides an earlier one, as in `SegmentEvent.traits`).
    let traitObjects: (TextSpan?, TextSpan?)

    /// Where a page path is: bytes of the message, or (from an escaped URL) a String of its own.
    enum PagePath: Sendable {
        case span(TextSpan)
        case text(String)
    }

    /// The contact id's UTF-8 equals `key` (a Kafka message key; `bytes`: the message).
    public func contactId(equals key: UnsafeRawBufferPointer, in bytes: UnsafeRawBufferPointer) -> Bool {
        contactId.withUTF8(in: bytes) { bytesEqual($0, key) }
    }

    /// The contact id as a String.
    public func contactIdString(in bytes: UnsafeRawBufferPointer) -> String { contactId.string(in: bytes) }

    /// The message id as a String.
    public func messageIdString(in bytes: UnsafeRawBufferPointer) -> String { messageId.string(in: bytes) }
}

/// A JSON string's body in a message (between the quotes), and whether it holds escapes.
struct TextSpan: Sendable {
    let start: Int32
    let count: Int32
    let escaped: Bool
    /// No escapes and only ASCII bytes, as the scanner saw while reading it: its bytes are its UTF-8 as they
    /// are. False when not known (`withUTF8` checks then).
    let plain: Bool

    /// - Parameter ascii: every byte is known to be ASCII (`JSONScanner.scanString` tells).
    init(_ r: Range<Int>, escaped: Bool, ascii: Bool = false) {
        start = Int32(truncatingIfNeeded: r.lowerBound); count = Int32(truncatingIfNeeded: r.count); self.escaped = escaped
        plain = ascii && !escaped
    }

    var isEmpty: Bool { count == 0 }

    /// The raw bytes (escapes not decoded).
    @inline(__always) func bytes(in b: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: b[Int(start)..<Int(start) + Int(count)])
    }

    /// The text as a String (escapes decoded, invalid UTF-8 repaired), shared through `interner` when given.
    func string(in b: UnsafeRawBufferPointer, interner: StringInterner? = nil) -> String {
        let raw = bytes(in: b)
        if escaped { return JSONScanner.unescape(raw) }
        return interner?.string(raw) ?? String(decoding: raw, as: UTF8.self)
    }

    /// Calls `body` with the text's UTF-8 — exactly the bytes of `string(in:)`: the message's own bytes when
    /// they are plain ASCII (no escapes, nothing to repair), else those of the String.
    @inline(__always) func withUTF8<R>(in b: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let raw = bytes(in: b)
        if plain || (!escaped && isASCII(raw)) { return body(raw) }
        return withUTF8Bytes(string(in: b), body)
    }
}

extension SegmentEvent {
    /// The Strings form of a scanned event (`bytes`: what it was scanned from).
    /// - Parameter interner: shares the Strings of repeated texts (event names, paths, traits) between events.
    public init(_ raw: RawSegmentEvent, in bytes: UnsafeRawBufferPointer, interner: StringInterner? = nil) {
        self.init(kind: raw.kind, messageId: raw.messageId.string(in: bytes), contactId: raw.contactId.string(in: bytes),
                  timestamp: raw.timestamp)
        eventName = raw.eventName?.string(in: bytes, interner: interner)
        switch raw.pagePath {
        case .span(let p): pagePath = p.string(in: bytes, interner: interner)
        case .text(let p): pagePath = p
        case nil: break
        }
        if let o = raw.traitObjects.0 { traits = SegmentDecoder.readTraits(in: o, of: bytes, interner: interner) }
        if let o = raw.traitObjects.1 {
            let more = SegmentDecoder.readTraits(in: o, of: bytes, interner: interner)
            traits = traits.isEmpty ? more : traits + more
        }
    }
}
