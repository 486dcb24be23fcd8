/// The contacts of one partition in one manually managed buffer.
///
/// A class, so that processing a contact in place (`inout contacts[i]`) does not count as an access to the
/// whole engine state: no move-out/move-in per event, no array uniqueness or exclusivity checks.
/// Not thread-safe (owned by one `PartitionEngine`).
final class ContactStore {
    private(set) var base: UnsafeMutablePointer<ContactState>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int = 1024) {
        self.capacity = max(16, capacity)
        base = .allocate(capacity: self.capacity)
    }

    deinit {
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

    func append(_ c: ContactState) {
        if count == capacity {
            let bigger = UnsafeMutablePointer<ContactState>.allocate(capacity: capacity * 2)
            bigger.moveInitialize(from: base, count: count)
            base.deallocate()
            base = bigger
            capacity *= 2
        }
        (base + count).initialize(to: c)
        count += 1
    }

    /// All contact ids, in creation order.
    var ids: [String] { (0..<count).map { base[$0].id } }
}
