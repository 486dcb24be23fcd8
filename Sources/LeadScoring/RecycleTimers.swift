/// Min-heap of recycle (b) crossing moments: (moment, contact), so advancing the watermark only touches the
/// contacts that are due — never a scan of all contacts.
///
/// Entries are invalidated lazily: a contact's current timer is `ContactState.recycleAt`; an entry whose
/// moment differs from it is stale and skipped when popped. `compactIfNeeded` drops stale entries when
/// they dominate.
struct RecycleTimers {
    struct Entry: Equatable {
        var at: EventTime
        var contact: Int32
        @inline(__always) static func < (a: Entry, b: Entry) -> Bool {
            a.at != b.at ? a.at < b.at : a.contact < b.contact
        }
    }

    private(set) var heap: [Entry] = []
    private var sizeAfterCompaction = 0

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }
    var peek: Entry? { heap.first }

    mutating func push(at: EventTime, contact: Int32) {
        heap.append(Entry(at: at, contact: contact))
        var i = heap.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if heap[i] < heap[p] { heap.swapAt(i, p); i = p } else { break }
        }
    }

    @discardableResult
    mutating func pop() -> Entry? {
        guard !heap.isEmpty else { return nil }
        let top = heap[0]
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(0)
        }
        return top
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        let n = heap.count
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < n && heap[l] < heap[m] { m = l }
            if r < n && heap[r] < heap[m] { m = r }
            if m == i { return }
            heap.swapAt(i, m)
            i = m
        }
    }

    /// Drops stale entries (and duplicates) once the heap has grown well past its last compacted size.
    mutating func compactIfNeeded(isValid: (Int32, EventTime) -> Bool) {
        guard heap.count > 2 * sizeAfterCompaction + 4096 else { return }
        rebuild(heap.filter { isValid($0.contact, $0.at) })
    }

    /// Replaces the content (restore from a checkpoint).
    mutating func rebuild(_ entries: [Entry]) {
        var e = entries
        e.sort { $0 < $1 }
        var unique: [Entry] = []
        unique.reserveCapacity(e.count)
        for x in e where unique.last != x { unique.append(x) }
        heap = unique          // a sorted array is a valid min-heap
        sizeAfterCompaction = heap.count
    }
}
