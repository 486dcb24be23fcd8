import Dispatch
import Foundation

/// SIGTERM/SIGINT handling without blocking Swift's cooperative pool.
enum SignalWaiter {
    /// Calls `handler` (on a global queue) each time one of the signals arrives; the default action is disabled.
    static func onSignal(_ signals: [Int32] = [SIGTERM, SIGINT], _ handler: @escaping @Sendable (Int32) -> Void) {
        for s in signals {
            signal(s, SIG_IGN)
            let src = DispatchSource.makeSignalSource(signal: s, queue: .global())
            src.setEventHandler { handler(s) }
            src.resume()
            Retainer.keep(src)
        }
    }

    /// Suspends until SIGTERM or SIGINT; returns the signal number.
    static func wait() async -> Int32 {
        await FirstOf<Int32>.wait { done in onSignal { done($0) } }
    }
}

/// Resumes an async caller with whichever of several callback sources fires first.
enum FirstOf<T: Sendable> {
    static func wait(_ install: (@escaping @Sendable (T) -> Void) -> Void) async -> T {
        await withCheckedContinuation { (c: CheckedContinuation<T, Never>) in
            let once = OnceFlag()
            install { v in if once.fire() { c.resume(returning: v) } }
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
