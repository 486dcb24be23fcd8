/// One decoded Segment-spec event (CONTRACTS §2): only the fields the engine uses.
public struct SegmentEvent: Sendable {
    public enum Kind: UInt8, Sendable { case track, identify, page, screen, group, alias }

    public var kind: Kind
    public var messageId: String
    /// `userId` when it is a non-empty string, else `anonymousId`.
    public var contactId: String
    public var timestamp: EventTime
    /// `event` of a `track`.
    public var eventName: String?
    /// `properties.path`, or else the path of `properties.url` (page events).
    public var pagePath: String?
    /// `traits` (identify) merged with `context.traits` (track/identify/page/screen), in document order;
    /// `traits` wins over `context.traits` for the same name on identify.
    public var traits: [(name: String, value: TraitValue)]

    public init(kind: Kind, messageId: String, contactId: String, timestamp: EventTime,
                eventName: String? = nil, pagePath: String? = nil, traits: [(name: String, value: TraitValue)] = []) {
        self.kind = kind; self.messageId = messageId; self.contactId = contactId; self.timestamp = timestamp
        self.eventName = eventName; self.pagePath = pagePath; self.traits = traits
    }
}

/// Why an event is invalid; the text goes to the dead-letter `error` header.
public struct InvalidEvent: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: String, Sendable {
        case notJSONObject = "not_json_object"
        case unknownType = "unknown_type"
        case missingMessageId = "missing_message_id"
        case missingContactId = "missing_contact_id"
        case badTimestamp = "bad_timestamp"
        case badProperties = "bad_properties"
        case badTraits = "bad_traits"
        case badContext = "bad_context"
        case futureTimestamp = "future_timestamp"
    }
    public var reason: Reason
    public var detail: String
    public init(_ reason: Reason, _ detail: String) { self.reason = reason; self.detail = detail }
    public var description: String { "\(reason.rawValue): \(detail)" }
}
