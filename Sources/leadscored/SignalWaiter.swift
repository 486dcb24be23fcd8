import Dispatch
import Foundation

/// Waits for SIGTERM or SIGINT without blocking Swift's cooperative pool.
enum SignalWaiter {
    /// Suspends until one of the signals arrives; returns its number.
    static func wait(for signals: [Int32] = [SIGTERM, SIGINT]) async -> Int32 {
        await withCheckedContinuation { (c: CheckedContinuation<Int32, Never>) in
            let once = OnceFlag()
            var sources: [any DispatchSourceSignal] = []
            for s in signals {
                signal(s, SIG_IGN)
                let src = DispatchSource.makeSignalSource(signal: s, queue: .global())
                src.setEventHandler {
                    if once.fire() { c.resume(returning: s) }
                }
                src.resume()
                sources.append(src)
            }
            Retainer.keep(sources)
        }
    }
}

/// A flag that can be raised exactly once, from any thread.
final class OnceFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var raised = false
    func fire() -> Bool { lock.lock(); defer { lock.unlock() }; if raised { return false }; raised = true; return true }
}

/// Keeps signal sources alive for the life of the process.
enum Retainer {
    nonisolated(unsafe) private static var kept: [Any] = []
    private static let lock = NSLock()
    static func keep(_ x: Any) { lock.lock(); kept.append(x); lock.unlock() }
}
