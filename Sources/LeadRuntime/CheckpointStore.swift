import Foundation
import LeadScoring
import Logging

/// Checkpoints of one input partition in `--data-dir`: a base snapshot plus delta segments of the contacts
/// changed since, so a checkpoint costs what changed, not the whole state. Files are written atomically
/// (temp file, fsync, rename, fsync directory); the previous base generation is kept so a damaged newest
/// file falls back to older good state (and the input is replayed from that state's offsets).
///
/// Compaction runs in the background: when generation G's deltas outgrow its base, G is frozen, the next
/// deltas start generation G+1 at once, and a background queue merges base-G + G's deltas into base-(G+1) —
/// from the files, without touching the engine, so the poll thread never re-encodes every contact. Until
/// base-(G+1) exists (or when it is damaged), restore reads base-G, all of G's deltas, then G+1's deltas: the
/// same state. Only a partition's first base, and the base replacing a compaction that failed, are written
/// from the engine.
///
/// Not thread-safe: used from the thread that owns the partition (the consumer's poll thread); the
/// compaction it starts works on frozen files only and reports back through a lock.
final class CheckpointStore: @unchecked Sendable {   // the compaction closure uses `directory` (immutable) and `lock` only
    let directory: String
    private let logger: Logger
    private(set) var generation: UInt64 = 0
    private(set) var sequence: UInt32 = 0
    private var baseBytes = 0
    private var deltaBytes = 0
    /// A compaction of generation `generation - 1` is queued or running (its result is read under `lock`).
    private var compacting = false
    /// A compaction failed (an unreadable frozen file, an I/O error): the next checkpoint writes a new base from
    /// the engine instead — the in-memory state is right even when the files it would merge are not.
    private var engineBaseNeeded = false
    private let lock = NSLock()
    private var compacted: Result<Int, any Error>?

    /// One queue for every partition's compactions: they are I/O and seldom, and serializing them keeps two
    /// stores of the same directory (revoked, then assigned again) from writing the same file at once.
    static let compactionQueue = DispatchQueue(label: "leadscore.checkpoint-compaction", qos: .utility)

    init(directory: String, logger: Logger) {
        self.directory = directory
        self.logger = logger
    }

    /// Waits for every queued compaction (of any partition). Blocks: dedicated threads and tests only.
    static func waitForCompactions() { compactionQueue.sync {} }

    /// What a restore found.
    struct Restored {
        var offsets: [String: Int64]
        var files: Int
        var bytes: Int
    }

    enum RestoreError: Error, CustomStringConvertible {
        case noneUsable(String)
        var description: String { switch self { case .noneUsable(let s): s } }
    }

    private func path(base gen: UInt64) -> String { "\(directory)/base-\(String(format: "%012llu", gen)).ck" }
    private func path(delta gen: UInt64, _ seq: UInt32) -> String { "\(directory)/delta-\(String(format: "%012llu", gen))-\(String(format: "%08u", seq)).ck" }

    /// True when any checkpoint file exists (usable or not).
    var hasFiles: Bool { !baseGenerations().isEmpty }

    private func baseGenerations() -> [UInt64] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { n -> UInt64? in
            guard n.hasPrefix("base-"), n.hasSuffix(".ck") else { return nil }
            return UInt64(n.dropFirst(5).dropLast(3))
        }.sorted(by: >)
    }

    /// Generation files merged in order: a base, then deltas (later wins, an empty state removes the contact).
    /// The base's contacts stay where they are in its file's bytes: only contacts a delta touched go into a
    /// dictionary, so a base alone (the common restore after a compaction) costs no per-contact hashing or copy.
    private struct Chain {
        private let base: CheckpointFile
        /// Newest state of each contact a delta touched (empty: removed).
        private var changed: [String: [UInt8]] = [:]
        /// Contacts first seen in deltas, in first-seen order (once each, even when removed and added again).
        private var added: [String] = []
        private var inBase: Set<String>?
        var offsets: [String: Int64]
        var partitionState: [UInt8]
        var files = 1
        var bytes: Int
        let baseBytes: Int

        /// `base` decoded in place (`CheckpointFile.decode(_:inPlace: true)`).
        init(base: CheckpointFile) {
            self.base = base
            offsets = base.offsets
            partitionState = base.partitionState
            bytes = base.stateBytes
            baseBytes = base.stateBytes
        }

        mutating func apply(_ d: CheckpointFile) {
            if !d.contacts.isEmpty && inBase == nil {
                var ids = Set<String>(minimumCapacity: base.contactCount)
                base.forEachContact { id, _ in ids.insert(id) }
                inBase = ids
            }
            for c in d.contacts {
                if changed[c.id] == nil && !(inBase?.contains(c.id) ?? false) { added.append(c.id) }
                changed[c.id] = c.state
            }
            offsets = d.offsets
            partitionState = d.partitionState
            bytes += d.stateBytes
            files += 1
        }

        /// At least the number of contacts `forEach` yields.
        var maxCount: Int { base.contactCount + added.count }

        /// Every live contact's latest state (valid only during the call): the base's in file order, then those
        /// added by deltas.
        func forEach(_ body: (String, UnsafeRawBufferPointer) throws -> Void) rethrows {
            if changed.isEmpty {
                try base.forEachContact(body)
                return
            }
            try base.forEachContact { id, state in
                if let s = changed[id] {
                    if !s.isEmpty { try s.withUnsafeBytes { try body(id, $0) } }
                } else {
                    try body(id, state)
                }
            }
            for id in added { if let s = changed[id], !s.isEmpty { try s.withUnsafeBytes { try body(id, $0) } } }
        }

        /// How many contacts `forEach` yields.
        var count: Int {
            var n = 0
            forEach { _, _ in n += 1 }
            return n
        }
    }

    /// Applies generation `g`'s deltas in order. `strict`: an unreadable delta throws; otherwise it ends the
    /// chain (logged). Returns how many were applied and whether that was all of them.
    private func applyDeltas(of g: UInt64, to chain: inout Chain, strict: Bool) throws -> (applied: UInt32, complete: Bool) {
        var seq: UInt32 = 0
        while true {
            let p = path(delta: g, seq + 1)
            guard FileManager.default.fileExists(atPath: p) else { return (seq, true) }
            do {
                chain.apply(try CheckpointFile.decode(try read(p)))
                seq += 1
            } catch {
                if strict { throw error }
                logger.error("checkpoint \(p) is unusable (\(error)); using the state before it and replaying the input from there")
                return (seq, false)
            }
        }
    }

    /// Loads the newest usable state into `engine`. Returns nil when there is no checkpoint at all.
    func restore(into makeEngine: () -> PartitionEngine) throws -> (PartitionEngine, Restored)? {
        Self.waitForCompactions()   // a store of this directory revoked earlier may still be compacting it
        let gens = baseGenerations()
        if gens.isEmpty { return nil }
        var problems: [String] = []
        for gen in gens {
            do {
                let engine = makeEngine()
                var chain = Chain(base: try CheckpointFile.decode(try read(path(base: gen)), inPlace: true))
                var (seq, complete) = try applyDeltas(of: gen, to: &chain, strict: false)
                var restoredGen = gen
                // Every newer base is missing or unusable (else it would have been restored). Deltas of
                // gen+1 were written on top of exactly this complete chain (the generation froze after its
                // last delta), so they continue it.
                let orphan = complete && hasDeltas(of: gen + 1)
                if orphan {
                    (seq, complete) = try applyDeltas(of: gen + 1, to: &chain, strict: false)
                    restoredGen = gen + 1
                }
                engine.reserveContacts(chain.maxCount)
                try chain.forEach { id, state in try engine.restoreContact(id: id, bytes: state) }
                try engine.restorePartitionState(chain.partitionState)
                _ = engine.takeDirtyContactIDs()
                generation = restoredGen
                sequence = seq
                baseBytes = chain.baseBytes
                deltaBytes = chain.bytes - chain.baseBytes
                // Later deltas of this generation (after a bad one) and anything of newer generations (damaged
                // bases, deltas that no longer continue this chain) must not be read again.
                removeDeltas(of: restoredGen, after: seq)
                for g in allGenerations() where g > restoredGen { removeGeneration(g) }
                if orphan {
                    // Finish what the interrupted (or damaged) compaction should have produced.
                    removeBase(restoredGen)
                    startCompaction(of: gen)
                }
                return (engine, Restored(offsets: chain.offsets, files: chain.files, bytes: chain.bytes))
            } catch {
                let msg = "checkpoint generation \(gen) in \(directory) is unusable: \(error)"
                logger.error("\(msg); trying the previous generation")
                problems.append(msg)
            }
        }
        throw RestoreError.noneUsable(problems.joined(separator: "; "))
    }

    /// Writes the contacts changed since the last checkpoint — taken and encoded by the caller, who publishes
    /// the same bytes to the state changelog — or a new base of every contact when deltas outgrow it.
    /// Returns the bytes written.
    @discardableResult
    func write(engine: PartitionEngine, changes: [EncodedContact], offsets: [String: Int64]) throws -> Int {
        collectCompaction()
        if generation > 0 && !compacting && !engineBaseNeeded && (sequence >= 64 || deltaBytes > max(baseBytes, 1 << 20)) {
            // Freeze this generation; its compaction runs in the background while deltas go to the next one.
            startCompaction(of: generation)
            generation += 1
            sequence = 0
            deltaBytes = 0
        }
        if generation == 0 || engineBaseNeeded {
            engineBaseNeeded = false
            var file = CheckpointFile(isBase: true, generation: generation + 1, sequence: 0, offsets: offsets,
                                      partitionState: engine.encodePartitionState(), contacts: [])
            file.streamed = (engine.contactCount, { try engine.forEachEncodedContact($0) })   // no copy of every contact's bytes
            let written = try atomicWrite(file, to: path(base: generation + 1))
            // Keep this and the previous usable generation (the one before a failed compaction's, whose
            // frozen chain the previous generation's deltas continue); older files go.
            let previous = generation == 0 || FileManager.default.fileExists(atPath: path(base: generation)) ? generation : generation - 1
            generation += 1
            sequence = 0
            baseBytes = written
            deltaBytes = 0
            removeGenerations(before: previous)
            return written
        }
        let file = CheckpointFile(isBase: false, generation: generation, sequence: sequence + 1, offsets: offsets,
                                  partitionState: engine.encodePartitionState(), contacts: changes)
        let written = try atomicWrite(file, to: path(delta: generation, sequence + 1))
        sequence += 1
        deltaBytes += written
        return written
    }

    /// Queues the merge of base-`g` and all of `g`'s deltas into base-(`g`+1); then generations before `g`
    /// are deleted (`g` stays as the fallback of `g`+1).
    private func startCompaction(of g: UInt64) {
        compacting = true
        let log = logger
        Self.compactionQueue.async { [self] in
            let result = Result<Int, any Error> { try compact(g) }
            if case .failure(let e) = result { log.error("checkpoint compaction of generation \(g) in \(directory) failed: \(e); the next checkpoint writes a new base from memory") }
            lock.lock(); compacted = result; lock.unlock()
        }
    }

    /// Takes the result of a finished compaction (poll thread, at the next checkpoint).
    private func collectCompaction() {
        guard compacting else { return }
        lock.lock(); let r = compacted; compacted = nil; lock.unlock()
        guard let r else { return }
        compacting = false
        switch r {
        case .success(let bytes): baseBytes = bytes
        case .failure: engineBaseNeeded = true
        }
    }

    /// base-`g` ⊕ deltas of `g` (later wins, empty state = removed) → base-(`g`+1), with the offsets and
    /// partition state of the last delta. Runs on the compaction queue; reads and writes files only.
    private func compact(_ g: UInt64) throws -> Int {
        var chain = Chain(base: try CheckpointFile.decode(try read(path(base: g)), inPlace: true))
        _ = try applyDeltas(of: g, to: &chain, strict: true)
        var file = CheckpointFile(isBase: true, generation: g + 1, sequence: 0, offsets: chain.offsets,
                                  partitionState: chain.partitionState, contacts: [])
        file.streamed = (chain.count, { try chain.forEach($0) })
        let written = try atomicWrite(file, to: path(base: g + 1))
        removeGenerations(before: g)
        return written
    }

    private func hasDeltas(of g: UInt64) -> Bool { FileManager.default.fileExists(atPath: path(delta: g, 1)) }

    private func deltaGenerations() -> [UInt64] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { n -> UInt64? in
            guard n.hasPrefix("delta-"), n.hasSuffix(".ck") else { return nil }
            return UInt64(n.dropFirst(6).prefix(12))
        }
    }

    private func removeBase(_ g: UInt64) { try? FileManager.default.removeItem(atPath: path(base: g)) }

    /// Generations with any file (a base, deltas or both).
    private func allGenerations() -> Set<UInt64> { Set(baseGenerations() + deltaGenerations()) }

    private func removeGenerations(before g: UInt64) {
        for old in allGenerations() where old < g { removeGeneration(old) }
    }

    private func removeGeneration(_ g: UInt64) {
        try? FileManager.default.removeItem(atPath: path(base: g))
        removeDeltas(of: g, after: 0)
    }

    private func removeDeltas(of g: UInt64, after seq: UInt32) {
        let prefix = "delta-\(String(format: "%012llu", g))-"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for n in names where n.hasPrefix(prefix) {
            if let s = UInt32(n.dropFirst(prefix.count).dropLast(3)), s > seq {
                try? FileManager.default.removeItem(atPath: "\(directory)/\(n)")
            }
        }
    }

    /// The whole file, read straight into the array (no `Data` in between: checkpoints are hundreds of MB).
    private func read(_ p: String) throws -> [UInt8] {
        let fd = open(p, O_RDONLY)
        guard fd >= 0 else { throw CheckpointFile.Corrupt(description: "cannot read \(p): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw CheckpointFile.Corrupt(description: "cannot stat \(p)") }
        let size = Int(st.st_size)
        var failure: String?
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buf, n in
            n = 0
            while n < size {
                let r = Foundation.read(fd, buf.baseAddress! + n, size - n)
                if r < 0 && errno == EINTR { continue }
                if r <= 0 { failure = r < 0 ? String(cString: strerror(errno)) : "file shrank while read"; break }
                n += r
            }
        }
        if let failure { throw CheckpointFile.Corrupt(description: "read \(p): \(failure)") }
        return bytes
    }

    /// temp file → fsync → rename → fsync directory: a crash leaves the old file or the new one, never half.
    /// The file is encoded straight into the temp file, piece by piece. Returns the bytes written.
    private func atomicWrite(_ file: CheckpointFile, to p: String) throws -> Int {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let tmp = p + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw CheckpointFile.Corrupt(description: "cannot write \(tmp): \(String(cString: strerror(errno)))") }
        let written: Int
        do {
            written = try file.write { piece in
                var off = 0
                while off < piece.count {
                    let n = Foundation.write(fd, piece.baseAddress! + off, piece.count - off)
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { throw CheckpointFile.Corrupt(description: "write \(tmp): \(String(cString: strerror(errno)))") }
                    off += n
                }
            }
        } catch {
            close(fd); throw error
        }
        guard fsync(fd) == 0 else { close(fd); throw CheckpointFile.Corrupt(description: "fsync \(tmp) failed") }
        close(fd)
        guard rename(tmp, p) == 0 else { throw CheckpointFile.Corrupt(description: "rename \(tmp) failed") }
        let dfd = open(directory, O_RDONLY)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
        return written
    }
}
