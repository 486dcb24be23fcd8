#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Text as UTF-8 bytes, for the hot path that hashes and compares ids, names and paths where they are (a
// message's bytes or a String's storage) instead of making Strings of them.

/// Calls `body` with a String's UTF-8 (no copy for a native String). Borrowed: `String.withUTF8` is mutating,
/// and the copy it needs costs a retain and a release per call (~220 instructions per pre-decoded event).
@inline(__always) func withUTF8Bytes<R>(_ s: String, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    if let r = s.utf8.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) { return r }
    var s = s
    return s.withUTF8 { body(UnsafeRawBufferPointer($0)) }
}

/// The same bytes. Up to 16 bytes (ids, names, most paths) with two loads per side, overlapping when the
/// count is not a multiple of the load size — a call to `memcmp` costs more than the comparison there.
@inline(__always) func bytesEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    let n = a.count
    guard n == b.count else { return false }
    guard n > 0, let p = a.baseAddress, let q = b.baseAddress else { return true }
    if n > 16 { return memcmp(p, q, n) == 0 }
    if n >= 8 {
        return p.loadUnaligned(as: UInt64.self) == q.loadUnaligned(as: UInt64.self)
            && p.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self) == q.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
    }
    if n >= 4 {
        return p.loadUnaligned(as: UInt32.self) == q.loadUnaligned(as: UInt32.self)
            && p.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self) == q.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
    }
    // 1–3 bytes: the first, the middle and the last (the same byte when n is 1).
    return p.load(as: UInt8.self) == q.load(as: UInt8.self)
        && p.load(fromByteOffset: n >> 1, as: UInt8.self) == q.load(fromByteOffset: n >> 1, as: UInt8.self)
        && p.load(fromByteOffset: n - 1, as: UInt8.self) == q.load(fromByteOffset: n - 1, as: UInt8.self)
}

/// A String's UTF-8 equals these bytes (without making a String of them).
@inline(__always) func utf8Equals(_ s: String, _ b: UnsafeRawBufferPointer) -> Bool {
    guard s.utf8.count == b.count else { return false }
    return withUTF8Bytes(s) { bytesEqual($0, b) }
}

/// No byte ≥ 0x80 (eight at a time).
@inline(__always) func isASCII(_ b: UnsafeRawBufferPointer) -> Bool {
    guard let p = b.baseAddress else { return true }
    let n = b.count
    var i = 0
    var acc: UInt64 = 0
    while i + 8 <= n { acc |= (p + i).loadUnaligned(as: UInt64.self); i += 8 }
    while i < n { acc |= UInt64(p.load(fromByteOffset: i, as: UInt8.self)); i += 1 }
    return acc & 0x8080_8080_8080_8080 == 0
}
