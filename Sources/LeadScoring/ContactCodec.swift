#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Binary checkpoint format of contact and partition state (little-endian, versioned).
///
/// Contacts name their rules, traits and trait tests (not indices), so state carries over by rule name when
/// the rules file changes (CONTRACTS §4); with unchanged rules (same `rules_version`) the restored state is
/// bit-for-bit the saved one, so the outputs that follow are byte-identical to an uninterrupted run.
/// A trait test that is new in the rules counts as false until the trait's next value arrives (trait values
/// themselves are not kept — see `ContactState`).
public struct CheckpointError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ d: String) { description = d }
}

/// A contact's checkpoint bytes (`encodeContact`); empty `state` marks a contact that no longer exists.
public typealias EncodedContact = (id: String, state: [UInt8])

struct BinaryWriter {
    var bytes: [UInt8] = []
    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func i64(_ v: Int64) { u64(UInt64(bitPattern: v)) }
    mutating func f64(_ v: Double) { u64(v.bitPattern) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func count(_ n: Int) { u32(UInt32(n)) }
    mutating func string(_ s: String) { count(s.utf8.count); bytes.append(contentsOf: s.utf8) }
}

struct BinaryReader {
    let bytes: [UInt8]
    var pos = 0
    init(_ b: [UInt8]) { bytes = b }
    mutating func need(_ n: Int) throws {
        if n < 0 || pos + n > bytes.count { throw CheckpointError("checkpoint truncated at byte \(pos)") }
    }
    mutating func u8() throws -> UInt8 { try need(1); defer { pos += 1 }; return bytes[pos] }
    mutating func u64() throws -> UInt64 {
        try need(8)
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[pos + i]) << (8 * UInt64(i)) }
        pos += 8
        return v
    }
    mutating func u32() throws -> UInt32 {
        try need(4)
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[pos + i]) << (8 * UInt32(i)) }
        pos += 4
        return v
    }
    mutating func i64() throws -> Int64 { Int64(bitPattern: try u64()) }
    mutating func f64() throws -> Double { Double(bitPattern: try u64()) }
    mutating func count() throws -> Int {
        let n = Int(try u32())
        if n > bytes.count - pos { throw CheckpointError("checkpoint count \(n) beyond data at byte \(pos)") }
        return n
    }
    mutating func string() throws -> String {
        let n = try count()
        try need(n)
        defer { pos += n }
        return String(decoding: bytes[pos..<pos + n], as: UTF8.self)
    }

    /// Consumes the next length-prefixed string when it equals `expected` (UTF-8) and returns true; otherwise
    /// reads nothing. No `String` is made: restores compare names this way and fall back to `string()`.
    mutating func take(_ expected: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count - pos >= 4 else { return false }
        let n = bytes.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: pos, as: UInt32.self))) }
        guard n == expected.count, bytes.count - pos - 4 >= n else { return false }
        let equal = n == 0 || bytes.withUnsafeBytes { memcmp($0.baseAddress! + pos + 4, expected.baseAddress!, n) == 0 }
        if equal { pos += 4 + n }
        return equal
    }

    mutating func take(_ expected: [UInt8]) -> Bool { expected.withUnsafeBytes { take($0) } }

    /// The index of the first of `names[from...]` the next string equals, consumed; nil (nothing read) when none.
    mutating func take(oneOf names: [[UInt8]], from: Int = 0) -> Int? {
        var k = from
        while k < names.count {
            if take(names[k]) { return k }
            k += 1
        }
        return nil
    }
}

extension CompiledRules {
    /// Stable text of an atomic trait test (trait + test), used to carry test results across rules changes.
    func signature(ofTest i: Int) -> String {
        let t = traitTests[i]
        let name = traitNames[t.trait]
        func v(_ x: TraitValue) -> String {
            switch x {
            case .string(let s): return "s:" + s
            case .number(let d): return "n:\(d)"
            case .bool(let b): return "b:\(b)"
            case .null: return "null"
            case .other: return "other"
            }
        }
        switch t.test {
        case .exists: return name + "\u{1}exists"
        case .eq(let x): return name + "\u{1}eq\u{1}" + v(x)
        case .oneOf(let xs): return name + "\u{1}in\u{1}" + xs.map(v).joined(separator: "\u{2}")
        case .matches(let p): return name + "\u{1}matches\u{1}" + p.source
        case .range(let r): return name + "\u{1}range\u{1}\(r.gte.map { "\($0)" } ?? "")\u{1}\(r.lte.map { "\($0)" } ?? "")"
        }
    }
}

extension EngineCore {
    /// 3: names as hashes, no id, extras only when set (`ContactCodec+Compact.swift`). 2 added the event time
    /// the contact entered its current stage. 1 and 2 still restore (1 with that time unknown: the contact's
    /// next stage change then has no time-in-stage).
    static let contactFormat: UInt8 = ContactState.compactFormat
    static let partitionFormat: UInt8 = 1

    /// The contact's state for a checkpoint; nil when the contact is unknown.
    /// (`mutating`, like `encode`, only so that the engine is not copied for the call: see `encodeContacts`.)
    mutating func encodeContact(_ id: String) -> [UInt8]? {
        guard let ci = find(id, hash: indexHash(id)) else { return nil }
        var w = ContactBytesWriter()
        encode(ci, into: &w)
        return [UInt8](w.bytes)
    }

    /// Checkpoint bytes of each contact in `ids`, in order (empty for an unknown id): one scratch buffer, one
    /// exact-size copy per contact. `mutating` although it changes nothing: a non-mutating method of this large
    /// struct is handed a copy of it (every field retained) on each call from `PartitionEngine`.
    mutating func encodeContacts(_ ids: [String]) -> [EncodedContact] {
        var out: [EncodedContact] = []
        out.reserveCapacity(ids.count)
        forEachEncodedContact(ids) { id, bytes in out.append((id, [UInt8](bytes))) }
        return out
    }

    /// Each contact's checkpoint bytes lent to `body` from one scratch buffer (valid only during the call; empty
    /// for an unknown id).
    mutating func forEachEncodedContact(_ ids: [String], _ body: (String, UnsafeRawBufferPointer) throws -> Void) rethrows {
        var w = ContactBytesWriter()
        for id in ids {
            w.reset()
            if let ci = find(id, hash: indexHash(id)) { encode(ci, into: &w) }
            try body(id, w.bytes)
        }
    }

    /// Every contact's id and checkpoint bytes, in creation order, lent to `body` like `forEachEncodedContact`:
    /// a base checkpoint streams them into its file without looking up each id.
    mutating func forEachEncodedContact(_ body: (String, UnsafeRawBufferPointer) throws -> Void) rethrows {
        var w = ContactBytesWriter()
        for i in 0..<contacts.count {
            w.reset()
            encode(Int32(i), into: &w)
            try body(contacts[i].id, w.bytes)
        }
    }

    /// The contact is read in place (the store's addressor): a copy would retain its id and blob, which at a
    /// million contacts means a cache miss on each for nothing.
    private mutating func encode(_ ci: Int32, into w: inout ContactBytesWriter) {
        let i = Int(ci)
        let table = contacts[i].flags & ContactState.seenInTable != 0
            ? seenTables.find(ci, hash: Self.tableHash(ci))?.sortedEntries : nil
        contacts[i].encodeCompact(into: &w, names: compiled.nameHashes, params: compiled.params,
                                  seenCutoff: contacts[i].newest &- rules.dedupeWindow,
                                  stageEnteredAt: contacts.stageEnteredAt(i), tableSeen: table)
    }

    /// Restores (or replaces) a contact from `encodeContact` bytes (any format), mapping rules and traits by name.
    mutating func restoreContact(id: String, bytes: UnsafeRawBufferPointer) throws {
        guard let format = bytes.first else { throw CheckpointError("empty contact checkpoint") }
        switch format {
        case ContactState.compactFormat:
            var r = ContactBytesReader(bytes)
            _ = try r.u8()
            try restoreCompact(id: id, &r)
        case 1, 2: try restoreNamed(id: id, bytes: [UInt8](bytes))
        default: throw CheckpointError("unknown contact format \(format)")
        }
    }

    /// Formats 1 and 2: names spelled out.
    private mutating func restoreNamed(id: String, bytes: [UInt8]) throws {
        var r = BinaryReader(bytes)
        let format = try r.u8()
        // Names are matched as bytes against the rules' own (no `String` per name), falling back to a lookup
        // by name for what is not where the same rules would have written it.
        let sameRules = try r.take(compiled.versionBytes) || r.string() == rules.version
        var idCopy = id
        if !idCopy.withUTF8({ r.take(UnsafeRawBufferPointer($0)) }) {
            let storedId = try r.string()
            guard storedId == id else { throw CheckpointError("checkpoint is for contact \(storedId), not \(id)") }
        }
        var c = ContactState(id: id, time: 0)
        c.newest = try r.i64(); c.fit = try r.f64(); c.fitMask = UInt32(truncatingIfNeeded: try r.u64())
        c.lastAlert = try r.i64(); c.lastPointsChange = try r.i64(); c.recycleAt = try r.i64()
        let rawStage = Int(try r.u8())
        guard let stage = Stage(rawValue: rawStage) else { throw CheckpointError("bad stage \(rawStage)") }
        c.stage = stage
        let stageEnteredAt = format >= 2 ? try r.i64() : ContactState.none
        let nTraits = try r.count()
        var nextTrait = 0   // the same rules write traits in index order
        for _ in 0..<nTraits {
            let known = r.take(oneOf: compiled.traitNameBytes, from: nextTrait)
            let ti = try known ?? compiled.traitIndex[r.string()]
            let time = try r.i64()
            if let known { nextTrait = known + 1 }
            guard let ti else { continue }
            c.setTraitTime(ti, time, traits: compiled.traitNames.count)
        }
        let nBits = try r.count()
        if nBits > 0 {
            var bits = TraitBits()
            var nextBit = 0   // and test bits in bit order
            for _ in 0..<nBits {
                if let b = r.take(oneOf: compiled.signatureBytes, from: nextBit) {
                    nextBit = b + 1
                    for s in compiled.sameSignatureBits[b] { bits.set(s) }
                } else {
                    for s in compiled.bitsBySignature[try r.string()] ?? [] { bits.set(s) }
                }
            }
            c.setTraitBits(bits)
        }
        // Rule names: the first rule of that name, like `engagementIndex` (slots come in firing order).
        func rule() throws -> Int32? {
            if let k = r.take(oneOf: compiled.engagementNameBytes) { return Int32(k) }
            return compiled.engagementIndex[try r.string()]
        }
        let nSlots = try r.count()
        for _ in 0..<nSlots {
            let ri = try rule(); let contrib = try r.f64(); let abs = try r.f64()
            guard let ri else { continue }
            let si = c.slot(for: ri)
            c.setContrib(si, contrib); c.setAwardedAbs(si, abs)
        }
        let nFirings = try r.count()
        for _ in 0..<nFirings {
            let ri = try rule(); let time = try r.i64()
            guard let ri, compiled.keepTimes[Int(ri)] else { continue }
            c.addFiring(rule: ri, at: time)
        }
        let nSeen = try r.count()
        var seen: [(hash: UInt64, time: EventTime)] = []
        for _ in 0..<nSeen { seen.append((try r.u64(), try r.i64())) }
        guard r.pos == bytes.count else { throw CheckpointError("trailing bytes in contact checkpoint") }
        finishRestore(c, sameRules: sameRules, seen: seen, stageEnteredAt: stageEnteredAt)
    }

    /// Installs a decoded contact; under other rules than it was written with, fit and the recycle timer
    /// (which depend on the rules) are recomputed first.
    mutating func finishRestore(_ c: ContactState, sameRules: Bool, seen: [(hash: UInt64, time: EventTime)],
                                stageEnteredAt: EventTime) {
        var c = c
        if !sameRules {
            let e = c.engagement
            let sc = Scores(fit: c.fit, engagement: e, total: compiled.clamp(c.fit + e))
            var fit = 0.0, mask: UInt32 = 0
            for (i, cond) in compiled.fit.enumerated() where compiled.eval(cond, .empty, c, sc) {
                fit += rules.fit[i].points
                if i < 32 { mask |= 1 << UInt32(i) }
            }
            c.fit = fit; c.fitMask = mask
            c.recycleAt = compiled.crossing(c)
        }
        install(c, seen: seen, stageEnteredAt: stageEnteredAt)
    }

    /// Watermark and counters of the partition.
    func encodePartitionState() -> [UInt8] {
        var w = BinaryWriter()
        w.u8(Self.partitionFormat)
        w.u8(watermark == nil ? 0 : 1)
        w.i64(watermark ?? 0)
        w.i64(Int64(eventsScored)); w.i64(Int64(duplicates)); w.i64(Int64(ignored))
        w.i64(Int64(stageChanges)); w.i64(Int64(alerts))
        return w.bytes
    }

    mutating func restorePartitionState(_ bytes: [UInt8]) throws {
        var r = BinaryReader(bytes)
        let format = try r.u8()
        guard format == Self.partitionFormat else { throw CheckpointError("unknown partition format \(format)") }
        let has = try r.u8(); let wm = try r.i64()
        let counters = (try r.i64(), try r.i64(), try r.i64(), try r.i64(), try r.i64())
        guard r.pos == bytes.count else { throw CheckpointError("trailing bytes in partition checkpoint") }
        setRestored(watermark: has == 1 ? wm : nil,
                    counters: [Int(counters.0), Int(counters.1), Int(counters.2), Int(counters.3), Int(counters.4)])
    }
}
