import Foundation

/// A private scratch directory for a `bench` or `demo` run, removed at the end.
struct TempDir {
    let path: String

    init(prefix: String) throws {
        let base = NSTemporaryDirectory() + "\(prefix)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        path = base
    }

    func file(_ name: String) -> String { path + "/" + name }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
