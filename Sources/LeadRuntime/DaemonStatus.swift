/// What the HTTP layer asks the daemon (LeadOps depends on this, not on the daemon's internals).
public protocol DaemonStatusProvider: Sendable {
    /// Ready: joined the group, every assigned partition restored and consuming, no fatal error.
    func readiness() -> Readiness
    func lookupContact(_ id: String) -> ContactLookup
}

public struct Readiness: Sendable {
    public var ready: Bool
    public var reason: String
    public init(ready: Bool, reason: String) { self.ready = ready; self.reason = reason }
}

public enum ContactLookup: Sendable {
    /// The contact's view as JSON.
    case found([UInt8])
    case unknown
    /// The contact's partition is owned by another instance (its address when known).
    case ownedElsewhere(partition: Int, owner: String?)
    /// The partition is here but not ready (restoring or failed).
    case notReady(String)
}
