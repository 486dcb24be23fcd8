/// Contact format 3: the compact checkpoint encoding of one contact.
///
/// Formats 1–2 spelled out every rule, trait and trait-test name in every contact, so that state carries over
/// by name when the rules change: names were ~60 % of a checkpoint (316 bytes per contact on the bench stream).
/// Format 3 keeps the by-name mapping but stores each name as its 64-bit FNV-1a hash, which is all a restore
/// needs (it only asks which of the current rules' names a stored one is), and leaves out what the checkpoint
/// file already says (the contact id) or what is usually unset (last alert, recycle timer).
///
///     u8 3 · u64 hash(rules_version) · i64 newest · f64 fit · u32 fit mask · i64 last points change
///     u8 stage · i64 stage entered · u8 extras (1: i64 last alert · i64 recycle timer)
///     n traits   × (u64 hash(trait name) · i64 event time of its value)
///     n bits     × (u64 hash(trait-test signature))            — the trait tests that hold
///     n slots    × (u64 hash(rule name) · f64 contribution · f64 awarded |points|)
///     n firings  × (u64 hash(rule name) · i64 event time)
///     n seen ids × (u64 message-id hash · i64 event time)
///
/// Counts are unsigned LEB128. Two distinct names of 64-bit hash are told apart with certainty in practice
/// (a collision among a few hundred names has probability ~1e-15); the names within one rules file are
/// checked to have distinct hashes when the rules compile.
final class CheckpointNameHashes {
    let version: UInt64
    /// By trait index, test bit and engagement rule index.
    let traits: [UInt64]
    let signatures: [UInt64]
    let rules: [UInt64]
    /// Back from a hash, for state written under other rules (names in other positions).
    let traitByHash: [UInt64: Int]
    let bitsBySignature: [UInt64: [Int]]
    let ruleByHash: [UInt64: Int]
    /// Per test bit: every bit with the same signature.
    let sameSignatureBits: [[Int]]

    init(version: String, traitNames: [String], signatures: [String], ruleNames: [String]) {
        self.version = StableHash.fnv1a64(version)
        traits = traitNames.map(StableHash.fnv1a64)
        self.signatures = signatures.map(StableHash.fnv1a64)
        rules = ruleNames.map(StableHash.fnv1a64)
        var t: [UInt64: Int] = [:], b: [UInt64: [Int]] = [:], r: [UInt64: Int] = [:]
        Self.requireDistinct(traitNames, traits, "trait names")
        Self.requireDistinct(signatures, self.signatures, "trait tests")
        Self.requireDistinct(ruleNames, rules, "rule names")
        for (i, h) in traits.enumerated() { t[h] = i }
        for (i, h) in self.signatures.enumerated() { b[h, default: []].append(i) }
        for (i, h) in rules.enumerated() where r[h] == nil { r[h] = i }
        traitByHash = t; bitsBySignature = b; ruleByHash = r
        sameSignatureBits = self.signatures.map { b[$0] ?? [] }
    }

    /// Distinct names must have distinct hashes (equal names, e.g. two rules testing the same trait the same
    /// way, share theirs): otherwise a restore could not tell them apart.
    private static func requireDistinct(_ names: [String], _ hashes: [UInt64], _ what: String) {
        var seen: [UInt64: String] = [:]
        for (name, h) in zip(names, hashes) {
            if let other = seen[h], other != name {
                preconditionFailure("\(what) \"\(other)\" and \"\(name)\" have the same checkpoint hash; rename one")
            }
            seen[h] = name
        }
    }

    /// Position of `h` in `hashes` at or after `from` (where the same rules wrote it); nil when not there (the
    /// caller then looks it up by hash: state written under other rules).
    @inline(__always) static func index(of h: UInt64, in hashes: [UInt64], from: Int) -> Int? {
        var k = max(0, from)
        while k < hashes.count {
            if hashes[k] == h { return k }
            k += 1
        }
        return nil
    }
}

extension ContactState {
    static let compactFormat: UInt8 = 3

    /// Appends this contact in format 3. `seenCutoff`: seen ids older than this are no longer alive and are
    /// left out; `tableSeen`: the seen ids when they live in the engine's table (sorted), else nil.
    func encodeCompact(into w: inout ContactBytesWriter, names: CheckpointNameHashes,
                       params: UnsafeMutableBufferPointer<CompiledRules.RuleParams>, seenCutoff: EventTime,
                       stageEnteredAt: EventTime, tableSeen: [(hash: UInt64, time: EventTime)]?) {
        let nTraits = traitTimeCount, nSlots = slotCount, nFirings = firingCount
        let high = extraBitWords > 0 ? traitBits.high : []
        var nBits = traitBitsLow.nonzeroBitCount
        for word in high { nBits += word.nonzeroBitCount }
        let nSeen = tableSeen?.count ?? seenCount
        w.reserve(80 + 5 * ContactBytesWriter.maxVarint + 16 * nTraits + 8 * nBits + 24 * nSlots + 16 * nFirings + 16 * nSeen)

        w.put(Self.compactFormat)
        w.put(names.version)
        w.put(newest); w.put(fit); w.put(fitMask); w.put(lastPointsChange)
        w.put(UInt8(truncatingIfNeeded: stage.rawValue)); w.put(stageEnteredAt)
        let alert = lastAlert, timer = recycleAt
        if alert == Self.none && timer == Self.never { w.put(UInt8(0)) } else { w.put(UInt8(1)); w.put(alert); w.put(timer) }

        var setTraits = 0
        for ti in 0..<nTraits where traitTime(ti) != Self.none { setTraits += 1 }
        w.varint(setTraits)
        for ti in 0..<nTraits {
            let t = traitTime(ti)
            if t != Self.none { w.put(names.traits[ti]); w.put(t) }
        }

        w.varint(nBits)
        func putBits(_ word: UInt64, from bit: Int) {
            var rest = word
            while rest != 0 {
                w.put(names.signatures[bit + rest.trailingZeroBitCount])
                rest &= rest &- 1
            }
        }
        putBits(traitBitsLow, from: 0)
        for (k, word) in high.enumerated() { putBits(word, from: 64 + 64 * k) }

        w.varint(nSlots)
        for i in 0..<nSlots { w.put(names.rules[Int(slotRule(i))]); w.put(contrib(i)); w.put(awardedAbs(i)) }

        // Only what is logically alive (pruning is lazy): the encoding does not depend on when pruning ran.
        @inline(__always) func alive(_ f: (rule: Int32, time: EventTime)) -> Bool { f.time > newest &- params[Int(f.rule)].horizon }
        var liveFirings = 0
        for i in 0..<nFirings where alive(firing(i)) { liveFirings += 1 }
        w.varint(liveFirings)
        for i in 0..<nFirings {
            let f = firing(i)
            if alive(f) { w.put(names.rules[Int(f.rule)]); w.put(f.time) }
        }

        // Seen ids in canonical order, (time, hash): arrival order in array mode is usually that already.
        if let tableSeen {
            putSeen(tableSeen.lazy.filter { $0.time >= seenCutoff }, into: &w)
        } else {
            let live = (0..<nSeen).lazy.map { self.seenEntry($0) }.filter { $0.time >= seenCutoff }
            if zip(live, live.dropFirst()).allSatisfy({ ($0.time, $0.hash) <= ($1.time, $1.hash) }) {
                putSeen(live, into: &w)
            } else {
                putSeen(live.sorted { ($0.time, $0.hash) < ($1.time, $1.hash) }, into: &w)
            }
        }
    }

    private func putSeen<S: Collection>(_ entries: S, into w: inout ContactBytesWriter) where S.Element == (hash: UInt64, time: EventTime) {
        w.varint(entries.count)
        for e in entries { w.put(e.hash); w.put(e.time) }
    }
}

extension EngineCore {
    /// Restores a contact from format 3 bytes (after the format byte), mapping names through their hashes.
    mutating func restoreCompact(id: String, _ r: inout ContactBytesReader) throws {
        let names = compiled.nameHashes
        let sameRules = try r.u64() == names.version
        var c = ContactState(id: id, time: 0)
        c.newest = try r.i64(); c.fit = try r.f64(); c.fitMask = try r.u32(); c.lastPointsChange = try r.i64()
        let rawStage = Int(try r.u8())
        guard let stage = Stage(rawValue: rawStage) else { throw CheckpointError("bad stage \(rawStage)") }
        c.stage = stage
        let stageEnteredAt = try r.i64()
        switch try r.u8() {
        case 0: break
        case 1: c.lastAlert = try r.i64(); c.recycleAt = try r.i64()
        case let x: throw CheckpointError("bad extras flag \(x)")
        }

        // One blob allocation of the right size: the sections' counts come first (a scan of a copy).
        var scan = r
        let nTraits = try scan.count(entryBytes: 16); try scan.skip(16 * nTraits)
        let nBits = try scan.count(entryBytes: 8); try scan.skip(8 * nBits)
        let nSlots = try scan.count(entryBytes: 24); try scan.skip(24 * nSlots)
        let nFirings = try scan.count(entryBytes: 16); try scan.skip(16 * nFirings)
        let nSeen = try scan.count(entryBytes: 16)
        c.reserveBlob(words: 1 + (c.flags & ContactState.hasExtras != 0 ? 2 : 0) + (nTraits > 0 ? compiled.traitCount : 0)
                      + 3 * nSlots + nFirings + 2 * min(nSeen, ContactState.seenArrayLimit + 1))

        _ = try r.count(entryBytes: 16)
        var next = 0
        for _ in 0..<nTraits {
            let h = try r.u64(), time = try r.i64()
            guard let ti = CheckpointNameHashes.index(of: h, in: names.traits, from: next) ?? names.traitByHash[h] else { continue }
            next = ti + 1
            c.setTraitTime(ti, time, traits: compiled.traitCount)
        }
        _ = try r.count(entryBytes: 8)
        if nBits > 0 {
            var bits = TraitBits()
            next = 0
            for _ in 0..<nBits {
                let h = try r.u64()
                if let k = CheckpointNameHashes.index(of: h, in: names.signatures, from: next) {
                    next = k + 1
                    for s in names.sameSignatureBits[k] { bits.set(s) }
                } else {
                    for s in names.bitsBySignature[h] ?? [] { bits.set(s) }
                }
            }
            c.setTraitBits(bits)
        }
        _ = try r.count(entryBytes: 24)
        next = 0
        for _ in 0..<nSlots {
            let h = try r.u64(), contrib = try r.f64(), abs = try r.f64()
            guard let ri = CheckpointNameHashes.index(of: h, in: names.rules, from: next) ?? names.ruleByHash[h] else { continue }
            next = ri + 1
            let si = c.slot(for: Int32(ri))
            c.setContrib(si, contrib); c.setAwardedAbs(si, abs)
        }
        _ = try r.count(entryBytes: 16)
        next = 0
        for _ in 0..<nFirings {
            let h = try r.u64(), time = try r.i64()
            // Firings come grouped by rule: the same rule again, or a later one.
            guard let ri = CheckpointNameHashes.index(of: h, in: names.rules, from: next) ?? names.ruleByHash[h] else { continue }
            next = ri
            guard compiled.keepTimes[ri] else { continue }
            c.addFiring(rule: Int32(ri), at: time)
        }
        _ = try r.count(entryBytes: 16)
        var seen: [(hash: UInt64, time: EventTime)] = []
        seen.reserveCapacity(nSeen)
        for _ in 0..<nSeen { seen.append((try r.u64(), try r.i64())) }
        guard r.isAtEnd else { throw CheckpointError("trailing bytes in contact checkpoint") }
        finishRestore(c, sameRules: sameRules, seen: seen, stageEnteredAt: stageEnteredAt)
    }
}
