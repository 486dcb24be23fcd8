import Dispatch

/// A task executor backed by its own serial dispatch queue, outside Swift's cooperative pool.
///
/// Why: the cooperative pool has one thread per core (two on small machines). `/healthz` and `/readyz` must
/// keep answering even when other code on the pool is busy or blocked, or an orchestrator restarts a healthy
/// daemon. Child tasks inherit the preference, so everything Hummingbird spawns for a connection runs here.
public final class DedicatedExecutor: TaskExecutor, @unchecked Sendable {
    private let queue: DispatchQueue

    public init(label: String) {
        queue = DispatchQueue(label: label, qos: .userInitiated)
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
