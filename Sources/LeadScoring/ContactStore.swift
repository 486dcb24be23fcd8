/// The contacts of one partition in one manually managed buffer.
///
/// A class, so that processing a contact in place (`inout contacts[i]`) does not count as an access to the
/// whole engine state: no move-out/move-in per event, no array uniqueness or exclusivity checks.
/// Not thread-safe (owned by one `PartitionEngine`): its properties skip the dynamic exclusivity check
/// (`@exclusivity(unchecked)`), a thread-local lookup per access.
///
/// Next to the contacts, a parallel column holds the event time at which each contact entered its current
/// stage (`stageEnteredAt`). It is needed for every contact from its first event on (entering `lead` is
/// creation), so it cannot live in the lazily created blob extras; outside the 64-byte `ContactState` it
/// costs exactly 8 bytes per contact and is touched only on creation and on stage changes, not per event.
final class ContactStore {
    @exclusivity(unchecked) private(set) var base: UnsafeMutablePointer<ContactState>
    /// Parallel to `base`: when the contact entered its current stage, or `ContactState.none` when unknown.
    @exclusivity(unchecked) private var entered: UnsafeMutablePointer<EventTime>
    @exclusivity(unchecked) private(set) var count = 0
    @exclusivity(unchecked) private var capacity: Int

    init(capacity: Int = 1024) {
        self.capacity = max(16, capacity)
        base = .allocate(capacity: self.capacity)
        entered = .allocate(capacity: self.capacity)
    }

    deinit {
        entered.deallocate()
        base.deinitialize(count: count)
        base.deallocate()
    }

    /// Addressors, not get/set: reading `contacts[i].id` loads that field in place instead of copying the
    /// whole contact (and retaining its id and blob) first.
    subscript(i: Int) -> ContactState {
        @inline(__always) unsafeAddress {
            precondition(i >= 0 && i < count, "contact index out of range")
            return UnsafePointer(base + i)
        }
        @inline(__always) unsafeMutableAddress {
            precondition(i >= 0 && i < count, "contact index out of range")
            return base + i
        }
    }

    /// Contact `i`'s address, valid until the store grows (`append`, `reserveCapacity`): for processing a
    /// contact in place without the retain and release of the store an `inout contacts[i]` costs.
    @inline(__always) func address(_ i: Int) -> UnsafeMutablePointer<ContactState> {
        precondition(i >= 0 && i < count, "contact index out of range")
        return base + i
    }

    /// Adds a contact; by default it entered its stage (`lead`) at its first event, `c.newest`.
    func append(_ c: ContactState, stageEnteredAt: EventTime? = nil) {
        if count == capacity { reserveCapacity(capacity * 2) }
        (base + count).initialize(to: c)
        (entered + count).initialize(to: stageEnteredAt ?? c.newest)
        count += 1
    }

    /// Room for `n` contacts without growing (a restore knows how many are coming).
    func reserveCapacity(_ n: Int) {
        guard n > capacity else { return }
        let bigger = UnsafeMutablePointer<ContactState>.allocate(capacity: n)
        bigger.moveInitialize(from: base, count: count)
        base.deallocate()
        base = bigger
        let biggerEntered = UnsafeMutablePointer<EventTime>.allocate(capacity: n)
        biggerEntered.moveInitialize(from: entered, count: count)
        entered.deallocate()
        entered = biggerEntered
        capacity = n
    }

    /// Event time at which contact `i` entered its current stage, or `ContactState.none` when unknown
    /// (restored from a checkpoint format that did not keep it).
    @inline(__always) func stageEnteredAt(_ i: Int) -> EventTime {
        precondition(i >= 0 && i < count, "contact index out of range")
        return entered[i]
    }

    @inline(__always) func setStageEnteredAt(_ i: Int, _ t: EventTime) {
        precondition(i >= 0 && i < count, "contact index out of range")
        entered[i] = t
    }

    /// All contact ids, in creation order.
    var ids: [String] { (0..<count).map { base[$0].id } }
}
