/// Everything the engine remembers about one contact, kept compact (target ≤ 256 bytes on average):
/// a fixed 64-byte part plus at most ONE heap block (`blob`), so applying an event touches few cache lines.
///
/// - Traits are not stored as values: per referenced trait only the event time of its current value and,
///   in the trait bits, which atomic trait tests of the rules that value satisfies (exact for every rule).
/// - Engagement is `Σ contrib` of the per-rule slots, all as of `newest` (every contribution decays at the
///   same rate, so one as-of time serves all); slots exist only for rules that fired.
/// - Firing times (only rules with `limit` or used by `count`) are packed (rule, biased time) words kept
///   sorted, so counting firings in a window is a binary search.
/// - Message ids are 64-bit FNV-1a hashes with their event time; the few very active contacts keep them in a
///   hash table held by the engine (`flags & seenInTable`).
/// - When the contact entered its current stage is a column of `ContactStore` next to this struct (needed for
///   every contact from creation on, rarely read: it would cost every contact's blob a word).
///
/// Blob layout (UInt64 words): header, [last alert, recycle timer] (only once set), extra trait bits (tests ≥ 64), trait times, slots (rule, contrib bits,
/// awarded-abs bits), firings, seen ids (hash, time). Header: bits 0–7 trait times, 8–15 slots, 16–23 seen
/// ids, 24–31 extra trait-bit words, 32–63 firings.
struct ContactState {
    static let none: EventTime = .min
    static let never: EventTime = .max
    static let seenInTable: UInt8 = 1
    /// Changed since the last `takeDirtyContactIDs`.
    static let dirty: UInt8 = 2
    /// The blob holds [lastAlert, recycleAt] right after its header (most contacts never need them).
    static let hasExtras: UInt8 = 4
    /// Small-array limit for seen ids before moving them to a table.
    static let seenArrayLimit = 48

    var id: String
    /// T: the contact's newest event time; engagement contributions are as of this time.
    var newest: EventTime
    var fit: Double = 0
    var lastPointsChange: EventTime
    /// Trait test bits 0..<64 (more live in the blob).
    var traitBitsLow: UInt64 = 0
    /// Which of the first 32 fit rules hold (for `top_rules`).
    var fitMask: UInt32 = 0
    var stage: Stage = .lead
    /// Firings are pruned when their count reaches 8 << pruneExp (amortized).
    var pruneExp: UInt8 = 0
    var flags: UInt8 = 0
    var blob: [UInt64] = []

    /// Stand-in while a contact is moved out of the array for processing.
    static let placeholder = ContactState(id: "", time: 0)

    init(id: String, time: EventTime) {
        self.id = id
        self.newest = time
        self.lastPointsChange = time
    }

    // MARK: rarely set fields (in the blob)

    /// Event time of the last alert, or `none`.
    var lastAlert: EventTime {
        get { flags & ContactState.hasExtras != 0 ? EventTime(bitPattern: blob[1]) : ContactState.none }
        set {
            if flags & ContactState.hasExtras == 0 {
                if newValue == ContactState.none { return }
                addExtras()
            }
            blob[1] = UInt64(bitPattern: newValue)
        }
    }

    /// Current recycle (b) timer key (crossing moment, µs floor) or `never`.
    var recycleAt: EventTime {
        get { flags & ContactState.hasExtras != 0 ? EventTime(bitPattern: blob[2]) : ContactState.never }
        set {
            if flags & ContactState.hasExtras == 0 {
                if newValue == ContactState.never { return }
                addExtras()
            }
            blob[2] = UInt64(bitPattern: newValue)
        }
    }

    private mutating func addExtras() {
        ensureRoom(2)
        blob.insert(contentsOf: repeatElement(0, count: 2), at: 1)
        blob[1] = UInt64(bitPattern: ContactState.none)
        blob[2] = UInt64(bitPattern: ContactState.never)
        flags |= ContactState.hasExtras
    }

    /// Makes room for `k` more words (creating the header if needed), growing by ~25 % rather than doubling.
    @inline(__always) private mutating func ensureRoom(_ k: Int) {
        if blob.isEmpty {
            var b: [UInt64] = []
            b.reserveCapacity(k + 3)
            b.append(0)
            blob = b
            return
        }
        let need = blob.count + k
        if need > blob.capacity { blob.reserveCapacity(need + max(2, blob.count / 4)) }
    }

    /// Room for `words` blob words in all (a restore knows the contact's size: one allocation, not one per
    /// section it fills in).
    mutating func reserveBlob(words: Int) {
        guard words > 1 else { return }
        if blob.isEmpty {
            var b: [UInt64] = []
            b.reserveCapacity(words)
            b.append(0)
            blob = b
        } else if words > blob.capacity {
            blob.reserveCapacity(words)
        }
    }

    // MARK: header

    @inline(__always) private var header: UInt64 { blob.isEmpty ? 0 : blob[0] }
    @inline(__always) var traitTimeCount: Int { Int(header & 0xFF) }
    @inline(__always) var slotCount: Int { Int((header >> 8) & 0xFF) }
    @inline(__always) var seenCount: Int { Int((header >> 16) & 0xFF) }
    @inline(__always) var extraBitWords: Int { Int((header >> 24) & 0xFF) }
    @inline(__always) var firingCount: Int { Int(header >> 32) }

    /// First word after the header and the optional extras.
    @inline(__always) private var base: Int { flags & ContactState.hasExtras != 0 ? 3 : 1 }
    @inline(__always) private var traitTimesStart: Int { base + extraBitWords }
    @inline(__always) private var slotsStart: Int { traitTimesStart + traitTimeCount }
    @inline(__always) private var firingsStart: Int { slotsStart + 3 * slotCount }
    @inline(__always) private var seenStart: Int { firingsStart + firingCount }

    private mutating func setHeader(traitTimes: Int? = nil, slots: Int? = nil, seen: Int? = nil,
                                    extra: Int? = nil, firings: Int? = nil) {
        if blob.isEmpty { blob = [0] }
        let h = blob[0]
        let t = UInt64(traitTimes ?? Int(h & 0xFF))
        let s = UInt64(slots ?? Int((h >> 8) & 0xFF))
        let n = UInt64(seen ?? Int((h >> 16) & 0xFF))
        let x = UInt64(extra ?? Int((h >> 24) & 0xFF))
        let f = UInt64(firings ?? Int(h >> 32))
        blob[0] = t | s << 8 | n << 16 | x << 24 | f << 32
    }

    // MARK: traits

    @inline(__always) func traitBit(_ b: Int) -> Bool {
        if b < 64 { return traitBitsLow & (1 << UInt64(b)) != 0 }
        let w = (b - 64) >> 6
        guard w < extraBitWords else { return false }
        return blob[base + w] & (1 << UInt64((b - 64) & 63)) != 0
    }

    var traitBits: TraitBits {
        var t = TraitBits()
        t.low = traitBitsLow
        if extraBitWords > 0 { t.high = Array(blob[base..<base + extraBitWords]) }
        return t
    }

    mutating func setTraitBits(_ t: TraitBits) {
        traitBitsLow = t.low
        var high = t.high
        while let last = high.last, last == 0 { high.removeLast() }
        let have = extraBitWords
        if high.count > have {
            ensureRoom(high.count - have)
            blob.insert(contentsOf: repeatElement(0, count: high.count - have), at: base + have)
            setHeader(extra: high.count)
        }
        for w in 0..<extraBitWords { blob[base + w] = w < high.count ? high[w] : 0 }
    }

    @inline(__always) func traitTime(_ ti: Int) -> EventTime {
        ti < traitTimeCount ? EventTime(bitPattern: blob[traitTimesStart + ti]) : ContactState.none
    }

    mutating func setTraitTime(_ ti: Int, _ t: EventTime, traits: Int) {
        if traitTimeCount == 0 {
            ensureRoom(traits)
            blob.insert(contentsOf: repeatElement(UInt64(bitPattern: ContactState.none), count: traits), at: traitTimesStart)
            setHeader(traitTimes: traits)
        }
        blob[traitTimesStart + ti] = UInt64(bitPattern: t)
    }

    // MARK: rule slots

    @inline(__always) func slotRule(_ i: Int) -> Int32 { Int32(truncatingIfNeeded: blob[slotsStart + 3 * i]) }
    @inline(__always) func contrib(_ i: Int) -> Double { Double(bitPattern: blob[slotsStart + 3 * i + 1]) }
    @inline(__always) func awardedAbs(_ i: Int) -> Double { Double(bitPattern: blob[slotsStart + 3 * i + 2]) }
    @inline(__always) mutating func setContrib(_ i: Int, _ v: Double) { blob[slotsStart + 3 * i + 1] = v.bitPattern }
    @inline(__always) mutating func setAwardedAbs(_ i: Int, _ v: Double) { blob[slotsStart + 3 * i + 2] = v.bitPattern }

    /// Index of the rule's slot, inserting an empty one if the rule never fired.
    mutating func slot(for rule: Int32) -> Int {
        let n = slotCount
        var i = 0
        while i < n {
            let r = slotRule(i)
            if r == rule { return i }
            if r > rule { break }
            i += 1
        }
        ensureRoom(3)
        blob.insert(contentsOf: repeatElement(0, count: 3), at: slotsStart + 3 * i)
        blob[slotsStart + 3 * i] = UInt64(rule)
        setHeader(slots: n + 1)
        return i
    }

    /// Engagement as of `newest`, summed in rule order (deterministic).
    /// (Summed several times per event: one bounds check for the section, not one per slot.)
    @inline(__always) var engagement: Double {
        let s = slotsStart, n = slotCount
        guard n > 0 else { return 0 }
        return blob.withUnsafeBufferPointer { b in
            precondition(s + 3 * n <= b.count, "slot section beyond the blob")
            var e = 0.0
            for i in 0..<n { e += Double(bitPattern: b[s + 3 * i + 1]) }
            return e
        }
    }

    /// Multiplies every contribution by `f` (time moved forward); one uniqueness check for the whole section.
    mutating func decayContributions(_ f: Double) {
        let s = slotsStart, n = slotCount
        blob.withUnsafeMutableBufferPointer { b in
            precondition(s + 3 * n <= b.count, "slot section beyond the blob")
            for i in 0..<n { b[s + 3 * i + 1] = (Double(bitPattern: b[s + 3 * i + 1]) * f).bitPattern }
        }
    }

    // MARK: firings

    static let timeBias: UInt64 = 1 << 55
    @inline(__always) static func pack(rule: Int32, time: EventTime) -> UInt64 {
        UInt64(UInt8(truncatingIfNeeded: rule)) << 56 | ((UInt64(bitPattern: time) &+ timeBias) & 0x00FF_FFFF_FFFF_FFFF)
    }
    @inline(__always) static func unpack(_ w: UInt64) -> (rule: Int32, time: EventTime) {
        (Int32(w >> 56), EventTime(bitPattern: (w & 0x00FF_FFFF_FFFF_FFFF) &- timeBias))
    }

    func firing(_ i: Int) -> (rule: Int32, time: EventTime) { Self.unpack(blob[firingsStart + i]) }

    /// Index of the first firing after (rule, time).
    @inline(__always) private func firingIndex(_ key: UInt64) -> Int {
        let base = firingsStart
        var lo = 0, hi = firingCount
        while lo < hi {
            let mid = (lo + hi) >> 1
            if blob[base + mid] <= key { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Firings of `rule` with event time in (from, to].
    @inline(__always) func firings(rule: Int32, after from: EventTime, upTo to: EventTime) -> Int {
        if firingCount == 0 || to <= from { return 0 }
        return firingIndex(Self.pack(rule: rule, time: to)) - firingIndex(Self.pack(rule: rule, time: from))
    }

    mutating func addFiring(rule: Int32, at time: EventTime) {
        let w = Self.pack(rule: rule, time: time)
        let n = firingCount
        let i = (n > 0 && blob[firingsStart + n - 1] <= w) ? n : firingIndex(w)
        ensureRoom(1)
        blob.insert(w, at: firingsStart + i)
        setHeader(firings: n + 1)
    }

    /// Drops firings older than each rule's horizon; amortized (runs when the count doubled since last time).
    mutating func pruneFirings(horizons: UnsafeMutableBufferPointer<CompiledRules.RuleParams>) {
        let n = firingCount
        guard n >= 8 << Int(pruneExp) else { return }
        let start = firingsStart
        var kept: [UInt64] = []
        kept.reserveCapacity(n)
        for i in 0..<n {
            let (r, t) = Self.unpack(blob[start + i])
            if t > newest &- horizons[Int(r)].horizon { kept.append(blob[start + i]) }
        }
        blob.replaceSubrange(start..<start + n, with: kept)
        setHeader(firings: kept.count)
        var e: UInt8 = 0
        while (8 << Int(e)) < 2 * kept.count && e < 40 { e += 1 }
        pruneExp = e
    }

    // MARK: seen ids (array mode)

    @inline(__always) func seenContains(_ hash: UInt64, cutoff: EventTime) -> Bool {
        let s = seenStart, n = seenCount
        guard n > 0 else { return false }
        return blob.withUnsafeBufferPointer { b in
            precondition(s + 2 * n <= b.count, "seen section beyond the blob")
            for i in 0..<n where b[s + 2 * i] == hash && EventTime(bitPattern: b[s + 2 * i + 1]) >= cutoff { return true }
            return false
        }
    }

    mutating func seenAppend(_ hash: UInt64, _ time: EventTime) {
        ensureRoom(2)
        let n = seenCount
        // The seen ids are the last section: append in place (no temporary array).
        blob.append(hash)
        blob.append(UInt64(bitPattern: time))
        setHeader(seen: n + 1)
    }

    /// Drops ids with event time < cutoff (array mode). Runs its full pass only when the first (usually
    /// oldest) id has expired; lookups ignore expired ids anyway.
    mutating func seenPrune(cutoff: EventTime) {
        let s = seenStart, n = seenCount
        guard n > 0, EventTime(bitPattern: blob[s + 1]) < cutoff else { return }
        let k = blob.withUnsafeMutableBufferPointer { b in
            precondition(s + 2 * n <= b.count, "seen section beyond the blob")
            let p = b.baseAddress! + s
            @inline(__always) func expired(_ i: Int) -> Bool { EventTime(bitPattern: p[2 * i + 1]) < cutoff }
            // Ids arrive about in time order, so the expired ones are usually a prefix: find it and check the
            // rest with loads and compares only, then move the rest down in one `memmove`.
            var i = 0
            while i < n && expired(i) { i += 1 }
            var j = i
            while j < n && !expired(j) { j += 1 }
            if j == n {
                if i > 0 { p.update(from: p + 2 * i, count: 2 * (n - i)) }   // overlapping: a memmove
                return n - i
            }
            var k = 0
            for i in i..<n where !expired(i) {
                p[2 * k] = p[2 * i]; p[2 * k + 1] = p[2 * i + 1]
                k += 1
            }
            return k
        }
        // Usually one id expires per pass: `removeLast()` per word is cheaper than `removeLast(_:)` (a generic
        // range replacement, ~95 instructions).
        for _ in 0..<2 * (n - k) { blob.removeLast() }
        setHeader(seen: k)
    }

    /// Seen id `i` in array mode (arrival order).
    @inline(__always) func seenEntry(_ i: Int) -> (hash: UInt64, time: EventTime) {
        (blob[seenStart + 2 * i], EventTime(bitPattern: blob[seenStart + 2 * i + 1]))
    }

    var seenEntries: [(hash: UInt64, time: EventTime)] {
        let s = seenStart
        return (0..<seenCount).map { (blob[s + 2 * $0], EventTime(bitPattern: blob[s + 2 * $0 + 1])) }
    }

    /// Removes all seen ids from the blob (moving them to a table).
    mutating func seenRemoveAll() {
        let s = seenStart, n = seenCount
        guard n > 0 else { return }
        blob.removeSubrange(s..<s + 2 * n)
        setHeader(seen: 0)
    }
}
