import Dispatch
import Foundation

/// Fork-join over dedicated threads: `run` executes a body once per lane — lane 0 on the calling thread,
/// lanes 1… on threads of their own — and returns when every lane has finished.
///
/// Why: the consumer's poll thread alone cannot score a batch as fast as librdkafka delivers it; each input
/// partition's engine is single-threaded, but different partitions are independent, so a batch's partitions
/// are split over lanes. The lanes are plain threads, never Swift's cooperative pool (two threads here:
/// blocking it would stall HTTP and the service lifecycle). Nothing runs on a lane between two `run`s, so
/// the caller owns all state again as soon as `run` returns (the semaphores order the memory accesses).
final class LaneGang: @unchecked Sendable {
    let count: Int
    private let go: [DispatchSemaphore]
    private let done = DispatchSemaphore(value: 0)
    private var body: ((Int) -> Void)?
    private var stopping = false
    private var threads: [Thread] = []

    init(lanes: Int, name: String) {
        count = max(1, lanes)
        go = (0..<count).map { _ in DispatchSemaphore(value: 0) }
        for lane in 1..<count {
            let t = Thread { [self] in loop(lane) }
            t.name = "\(name)-\(lane)"
            threads.append(t)
            t.start()
        }
    }

    private func loop(_ lane: Int) {
        while true {
            go[lane].wait()
            if stopping { done.signal(); return }
            body?(lane)
            done.signal()
        }
    }

    /// Runs `body(lane)` for every lane in parallel; returns when all are done. Not reentrant: one caller.
    func run(_ body: (Int) -> Void) {
        if count == 1 { body(0); return }
        withoutActuallyEscaping(body) { escaping in
            self.body = escaping
            for lane in 1..<count { go[lane].signal() }
            escaping(0)
            for _ in 1..<count { done.wait() }
            self.body = nil
        }
    }

    /// Ends the lane threads (after the last `run`).
    func shutdown() {
        guard count > 1, !stopping else { return }
        stopping = true
        for lane in 1..<count { go[lane].signal() }
        for _ in 1..<count { done.wait() }
    }
}
