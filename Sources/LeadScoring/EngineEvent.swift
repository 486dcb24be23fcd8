/// What the engine reads of an event, so that one implementation of `apply` serves both forms of it:
/// `SegmentEvent` (Strings: tests, `replay`) and `RawEventInput` (a scanned message: the daemon, no String per
/// event). Both hand the engine the same UTF-8 bytes — the ones `SegmentEvent`'s Strings hold — so both give
/// byte-identical records and checkpoints.
protocol EngineEvent {
    var kind: SegmentEvent.Kind { get }
    var timestamp: EventTime { get }
    func withContactId<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R
    func withMessageId<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R
    /// Made only for a new contact.
    func contactIdString() -> String
    /// Made only for an output record (its id and trigger).
    func messageIdString() -> String
    /// nil without an event name (or for another kind than track).
    func withEventName<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R?
    /// nil without a page path (or for another kind than page).
    func withPagePath<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R?
    var hasTraits: Bool { get }
    /// Each trait as (name, value), in application order: for a repeated name the later value wins.
    func forEachTrait(_ body: (UnsafeRawBufferPointer, TraitInput) -> Void)
}

/// A trait value handed to the engine: a string's UTF-8, or any other value.
enum TraitInput {
    case text(UnsafeRawBufferPointer)
    case value(TraitValue)

    /// As a `TraitValue` (a String made for text).
    var traitValue: TraitValue {
        switch self {
        case .text(let b): .string(String(decoding: b, as: UTF8.self))
        case .value(let v): v
        }
    }
}

/// A scanned event with the bytes it was scanned from (valid during the call that gets it).
struct RawEventInput: EngineEvent {
    let raw: RawSegmentEvent
    let bytes: UnsafeRawBufferPointer

    var kind: SegmentEvent.Kind { raw.kind }
    var timestamp: EventTime { raw.timestamp }

    @inline(__always) func withContactId<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R { raw.contactId.withUTF8(in: bytes, body) }
    @inline(__always) func withMessageId<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R { raw.messageId.withUTF8(in: bytes, body) }
    func contactIdString() -> String { raw.contactId.string(in: bytes) }
    func messageIdString() -> String { raw.messageId.string(in: bytes) }

    @inline(__always) func withEventName<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R? {
        raw.eventName.map { $0.withUTF8(in: bytes, body) }
    }

    @inline(__always) func withPagePath<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R? {
        switch raw.pagePath {
        case .span(let p): return p.withUTF8(in: bytes, body)
        case .text(let p): return withUTF8Bytes(p, body)
        case nil: return nil
        }
    }

    var hasTraits: Bool { raw.traitObjects.0 != nil || raw.traitObjects.1 != nil }

    func forEachTrait(_ body: (UnsafeRawBufferPointer, TraitInput) -> Void) {
        if let o = raw.traitObjects.0 { forEachTrait(in: o, body) }
        if let o = raw.traitObjects.1 { forEachTrait(in: o, body) }
    }

    private func forEachTrait(in object: TextSpan, _ body: (UnsafeRawBufferPointer, TraitInput) -> Void) {
        SegmentDecoder.forEachTrait(in: object, of: bytes) { name, value in
            name.withUTF8(in: bytes) { n in
                switch value {
                case .text(let t): t.withUTF8(in: bytes) { body(n, .text($0)) }
                case .value(let v): body(n, .value(v))
                }
            }
        }
    }
}

extension SegmentEvent: EngineEvent {
    @inline(__always) func withContactId<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R { withUTF8Bytes(contactId, body) }
    @inline(__always) func withMessageId<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R { withUTF8Bytes(messageId, body) }

    func contactIdString() -> String { contactId }
    func messageIdString() -> String { messageId }

    // The fields are read in place (no `Optional.map`, no element copies): each copy of a String is a retain and
    // a release.
    func withEventName<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R? {
        if eventName == nil { return nil }
        return withUTF8Bytes(eventName.unsafelyUnwrapped, body)
    }
    func withPagePath<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R? {
        if pagePath == nil { return nil }
        return withUTF8Bytes(pagePath.unsafelyUnwrapped, body)
    }

    var hasTraits: Bool { !traits.isEmpty }

    func forEachTrait(_ body: (UnsafeRawBufferPointer, TraitInput) -> Void) {
        traits.withUnsafeBufferPointer { t in
            for i in t.indices {
                withUTF8Bytes(t[i].name) { n in
                    if case .string(let s) = t[i].value { withUTF8Bytes(s) { body(n, .text($0)) } } else { body(n, .value(t[i].value)) }
                }
            }
        }
    }
}
