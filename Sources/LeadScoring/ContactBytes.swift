/// A growable byte buffer with unaligned little-endian stores, for the compact contact encoding.
///
/// A base checkpoint encodes every contact of a partition (a million of them in the benchmark), so the
/// encoding is a few stores per field into one reused buffer: `Array.append(contentsOf:)` per field cost more
/// than the encoding itself. Callers `reserve` the most a contact can take, then `put` without checks.
struct ContactBytesWriter: ~Copyable {
    private var base: UnsafeMutableRawPointer
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int = 4096) {
        self.capacity = max(64, capacity)
        base = .allocate(byteCount: self.capacity, alignment: 8)
    }

    deinit { base.deallocate() }

    /// The bytes written since the last `reset` (valid until the next write).
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    mutating func reset() { count = 0 }

    /// Room for `n` more bytes.
    mutating func reserve(_ n: Int) {
        guard count + n > capacity else { return }
        var c = capacity
        while c < count + n { c *= 2 }
        let bigger = UnsafeMutableRawPointer.allocate(byteCount: c, alignment: 8)
        bigger.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = bigger
        capacity = c
    }

    @inline(__always) mutating func put<T: FixedWidthInteger>(_ v: T) {
        base.storeBytes(of: v.littleEndian, toByteOffset: count, as: T.self)
        count += MemoryLayout<T>.size
    }
    @inline(__always) mutating func put(_ v: Double) { put(v.bitPattern) }

    /// Unsigned LEB128 (at most `maxVarint` bytes).
    @inline(__always) mutating func varint(_ n: Int) {
        var v = UInt64(n)
        while v >= 0x80 { put(UInt8(truncatingIfNeeded: v) | 0x80); v >>= 7 }
        put(UInt8(v))
    }
    static let maxVarint = 10
}

/// Bounds-checked reads over a contact's bytes (a truncated or damaged contact throws, never traps).
struct ContactBytesReader {
    let bytes: UnsafeRawBufferPointer
    private(set) var pos = 0

    init(_ b: UnsafeRawBufferPointer) { bytes = b }

    var isAtEnd: Bool { pos == bytes.count }

    @inline(__always) private mutating func need(_ n: Int) throws {
        if bytes.count - pos < n { throw CheckpointError("contact checkpoint truncated at byte \(pos)") }
    }

    @inline(__always) mutating func u8() throws -> UInt8 {
        try need(1); defer { pos += 1 }
        return bytes[pos]
    }
    @inline(__always) mutating func u32() throws -> UInt32 {
        try need(4); defer { pos += 4 }
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: pos, as: UInt32.self))
    }
    @inline(__always) mutating func u64() throws -> UInt64 {
        try need(8); defer { pos += 8 }
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: pos, as: UInt64.self))
    }
    @inline(__always) mutating func i64() throws -> Int64 { Int64(bitPattern: try u64()) }
    @inline(__always) mutating func f64() throws -> Double { Double(bitPattern: try u64()) }

    mutating func skip(_ n: Int) throws { try need(n); pos += n }

    /// A count of entries of at least `entryBytes` each: more than the remaining bytes can hold is damage.
    mutating func count(entryBytes: Int) throws -> Int {
        var v: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try u8()
            v |= UInt64(b & 0x7F) << shift
            if b < 0x80 { break }
            shift += 7
            if shift > 63 { throw CheckpointError("bad count at byte \(pos)") }
        }
        guard v <= UInt64((bytes.count - pos) / max(1, entryBytes)) else {
            throw CheckpointError("contact checkpoint count \(v) beyond data at byte \(pos)")
        }
        return Int(v)
    }
}
