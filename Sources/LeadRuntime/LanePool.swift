import Foundation

/// Processing lanes: dedicated threads, each working through its own FIFO of jobs, with a barrier (`drain`).
///
/// Why: one thread cannot score events as fast as librdkafka delivers them, but different input partitions
/// are independent. The poll thread splits each batch by partition and hands every lane its part, then goes
/// back to polling while the lanes work (librdkafka hands out a fetch response partition by partition, so a
/// batch often holds one partition only: a fork-join per batch would leave the other lanes idle). A partition
/// always goes to the same lane, so its events are still applied by one thread in offset order. Whatever
/// needs quiescent state (checkpoints, commits, rebalances, shutdown) calls `drain` first.
///
/// Lanes are plain threads, never Swift's cooperative pool. `submit` blocks the caller when a lane already
/// has `maxPending` jobs (backpressure towards the poll thread, bounded memory).
final class LanePool<Job>: @unchecked Sendable {
    let count: Int
    let maxPending: Int
    private let cond = NSCondition()
    private var queues: [[Job]]
    private var busy: [Bool]
    private var stopping = false
    private var running = 0
    private let handler: (Int, Job) -> Void

    /// - Parameter handler: runs each job on its lane's thread (`lane`, job).
    init(lanes: Int, name: String, maxPending: Int = 8, handler: @escaping (Int, Job) -> Void) {
        count = max(1, lanes)
        self.maxPending = max(1, maxPending)
        self.handler = handler
        queues = Array(repeating: [], count: count)
        busy = Array(repeating: false, count: count)
        running = count
        for lane in 0..<count {
            let t = Thread { [self] in loop(lane) }
            t.name = "\(name)-\(lane)"
            t.start()
        }
    }

    private func loop(_ lane: Int) {
        cond.lock()
        while true {
            while queues[lane].isEmpty && !stopping { cond.wait() }
            if queues[lane].isEmpty && stopping { break }
            let job = queues[lane].removeFirst()
            busy[lane] = true
            cond.unlock()
            handler(lane, job)
            cond.lock()
            busy[lane] = false
            cond.broadcast()   // room in the queue, or a drain waiting for idleness
        }
        running -= 1
        cond.broadcast()
        cond.unlock()
    }

    /// Queues `job` on `lane` (after the jobs already there); waits while that lane has `maxPending` jobs.
    func submit(_ lane: Int, _ job: Job) {
        cond.lock()
        while queues[lane].count >= maxPending { cond.wait() }
        queues[lane].append(job)
        cond.broadcast()
        cond.unlock()
    }

    /// Returns once every lane has finished every job submitted before the call.
    func drain() {
        cond.lock()
        while queues.contains(where: { !$0.isEmpty }) || busy.contains(true) { cond.wait() }
        cond.unlock()
    }

    /// Finishes the queued jobs, then ends the lane threads.
    func shutdown() {
        cond.lock()
        stopping = true
        cond.broadcast()
        while running > 0 { cond.wait() }
        cond.unlock()
    }
}
