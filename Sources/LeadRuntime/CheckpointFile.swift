import LeadScoring

/// One checkpoint file's content: the input offsets it reflects, the partition's engine state and the contacts
/// it carries (all of them in a base, the changed ones in a delta). Binary, versioned, CRC-32 protected.
struct CheckpointFile {
    static let magic: [UInt8] = Array("LSCK".utf8)
    static let version: UInt32 = 1

    var isBase: Bool
    var generation: UInt64
    var sequence: UInt32
    /// Next offset to read, per input topic.
    var offsets: [String: Int64]
    var partitionState: [UInt8]
    /// Contact id → encoded state.
    var contacts: [EncodedContact]
    /// Instead of `contacts` when writing (if set): the number of contacts and a producer of them, encoded while
    /// the file is written (a base of every contact of an engine, or a compacted chain, without a copy of all).
    var streamed: (count: Int, forEach: ContactProducer)?
    typealias ContactProducer = ((String, UnsafeRawBufferPointer) throws -> Void) throws -> Void
    /// Instead of `contacts` after `decode(_:inPlace: true)`: the file's bytes and where each contact's entry
    /// (id blob, state blob) starts in them — a restore of a million contacts makes no array per contact.
    var raw: [UInt8] = []
    var entryStarts: [Int] = []
    /// The contacts' state bytes in all (as decoded).
    var stateBytes = 0

    /// Every contact of the file, whichever way it was decoded.
    var contactCount: Int { entryStarts.isEmpty ? contacts.count : entryStarts.count }

    /// Each contact's id and state (valid only during the call), in file order.
    func forEachContact(_ body: (String, UnsafeRawBufferPointer) throws -> Void) rethrows {
        if entryStarts.isEmpty {
            for c in contacts { try c.state.withUnsafeBytes { try body(c.id, $0) } }
            return
        }
        try raw.withUnsafeBytes { b in
            for start in entryStarts {
                let idLen = Int(UInt32(littleEndian: b.loadUnaligned(fromByteOffset: start, as: UInt32.self)))
                let id = String(decoding: UnsafeRawBufferPointer(rebasing: b[(start + 4)..<(start + 4 + idLen)]), as: UTF8.self)
                let s = start + 4 + idLen
                let n = Int(UInt32(littleEndian: b.loadUnaligned(fromByteOffset: s, as: UInt32.self)))
                try body(id, UnsafeRawBufferPointer(rebasing: b[(s + 4)..<(s + 4 + n)]))
            }
        }
    }

    func encode() -> [UInt8] {
        var all: [UInt8] = []
        all.reserveCapacity(256 + partitionState.count + contacts.reduce(0) { $0 + 8 + $1.id.utf8.count + $1.state.count })
        precondition(streamed == nil, "encode() is for a file whose contacts are in memory")
        do { try write { all.append(contentsOf: $0) } } catch { preconditionFailure("an in-memory encoding cannot fail: \(error)") }
        return all
    }

    /// The encoding in pieces of about 1 MiB, handed to `sink` in order (a checkpoint of a million contacts is
    /// written to its file this way, without a second copy of it all in memory). Returns the bytes written.
    @discardableResult
    func write(_ sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        var w = ByteWriter()
        w.out.reserveCapacity(Self.piece + 64 * 1024)
        var crc: UInt32 = 0
        var total = 0
        func flush() throws {
            try w.out.withUnsafeBytes { b in crc = Partitioner.crc32(b, continuing: crc); try sink(b) }
            total += w.out.count
            w.out.removeAll(keepingCapacity: true)
        }
        w.bytes(Self.magic)
        w.u32(Self.version)
        w.u8(isBase ? 0 : 1)
        w.u64(generation)
        w.u32(sequence)
        w.u32(UInt32(offsets.count))
        for (t, o) in offsets.sorted(by: { $0.key < $1.key }) { w.blob(t); w.u64(UInt64(bitPattern: o)) }
        w.blob(partitionState)
        if let (count, forEach) = streamed {
            w.u32(UInt32(count))
            var n = 0
            try forEach { id, state in
                w.blob(id); w.u32(UInt32(state.count)); w.out.append(contentsOf: state)
                n += 1
                if w.out.count >= Self.piece { try flush() }
            }
            // The header already announced `count`: a file that disagrees must not be renamed into place.
            guard n == count else { throw Corrupt(description: "checkpoint producer gave \(n) contacts, announced \(count)") }
        } else {
            w.u32(UInt32(contacts.count))
            for c in contacts {
                w.blob(c.id); w.blob(c.state)
                if w.out.count >= Self.piece { try flush() }
            }
        }
        try flush()
        w.u32(crc)
        try flush()
        return total
    }

    private static let piece = 1 << 20

    struct Corrupt: Error, CustomStringConvertible { var description: String }

    /// `inPlace`: keep the contacts in the file's bytes (`forEachContact`), checked but not copied out.
    static func decode(_ b: [UInt8], inPlace: Bool = false) throws -> CheckpointFile {
        guard b.count >= 8 + 4 else { throw Corrupt(description: "truncated (\(b.count) bytes)") }
        var r = ByteReader(b, (b.count - 4)..<b.count)
        let crc = try r.u32()
        guard Partitioner.crc32(b[0..<(b.count - 4)]) == crc else { throw Corrupt(description: "checksum mismatch (truncated or damaged)") }
        r = ByteReader(b, 0..<(b.count - 4))
        guard try r.take(4) == magic[...] else { throw Corrupt(description: "not a leadscore checkpoint") }
        guard try r.u32() == version else { throw Corrupt(description: "unsupported checkpoint version") }
        let isBase = try r.u8() == 0
        let gen = try r.u64()
        let seq = try r.u32()
        var offsets: [String: Int64] = [:]
        for _ in 0..<(try r.u32()) {
            let t = String(decoding: try r.blob(), as: UTF8.self)
            offsets[t] = Int64(bitPattern: try r.u64())
        }
        let ps = Array(try r.blob())
        var contacts: [EncodedContact] = []
        var starts: [Int] = []
        var stateBytes = 0
        let n = try r.u32()
        if inPlace {
            starts.reserveCapacity(Int(min(n, UInt32(b.count / 8))))
            for _ in 0..<n {
                starts.append(r.pos)
                _ = try r.blob(); stateBytes += try r.blob().count
            }
        } else {
            contacts.reserveCapacity(Int(min(n, UInt32(b.count / 8))))
            for _ in 0..<n {
                let id = String(decoding: try r.blob(), as: UTF8.self)
                contacts.append((id, Array(try r.blob())))
                stateBytes += contacts[contacts.count - 1].state.count
            }
        }
        guard r.pos == r.end else { throw Corrupt(description: "trailing bytes after the contacts") }
        var file = CheckpointFile(isBase: isBase, generation: gen, sequence: seq, offsets: offsets, partitionState: ps, contacts: contacts)
        if inPlace && n > 0 { file.raw = b; file.entryStarts = starts }
        file.stateBytes = stateBytes
        return file
    }
}

struct ByteWriter {
    var out: [UInt8] = []
    mutating func u8(_ v: UInt8) { out.append(v) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
    mutating func bytes(_ b: [UInt8]) { out.append(contentsOf: b) }
    mutating func blob(_ b: [UInt8]) { u32(UInt32(b.count)); out.append(contentsOf: b) }
    mutating func blob(_ s: String) { u32(UInt32(s.utf8.count)); out.append(contentsOf: s.utf8) }
}

/// Reads `bytes[pos..<end]` front to back; every read is bounds-checked against `end` (a truncated file throws).
struct ByteReader {
    let bytes: [UInt8]
    var pos: Int
    let end: Int
    init(_ bytes: [UInt8], _ range: Range<Int>) { self.bytes = bytes; pos = range.lowerBound; end = range.upperBound }
    mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, end - pos >= n else { throw CheckpointFile.Corrupt(description: "truncated") }
        defer { pos += n }
        return bytes[pos..<(pos + n)]
    }
    mutating func u8() throws -> UInt8 { try take(1).first! }
    mutating func u32() throws -> UInt32 {
        guard end - pos >= 4 else { throw CheckpointFile.Corrupt(description: "truncated") }
        defer { pos += 4 }
        return bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: pos, as: UInt32.self)) }
    }
    mutating func u64() throws -> UInt64 {
        guard end - pos >= 8 else { throw CheckpointFile.Corrupt(description: "truncated") }
        defer { pos += 8 }
        return bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: pos, as: UInt64.self)) }
    }
    mutating func blob() throws -> ArraySlice<UInt8> { try take(Int(try u32())) }
}
