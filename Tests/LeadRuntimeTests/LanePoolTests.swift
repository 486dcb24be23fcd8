import Foundation
import Synchronization
import Testing
@testable import LeadRuntime

@Suite struct LanePoolTests {
    @Test func eachLaneRunsItsJobsInOrderOnOneThreadOfItsOwn() {
        let seen = Mutex<[Int: [Int]]>([:])
        let threads = Mutex<[Int: Set<UInt>]>([:])
        let pool = LanePool<Int>(lanes: 3, name: "test-lane") { lane, job in
            seen.withLock { $0[lane, default: []].append(job) }
            threads.withLock { $0[lane, default: []].insert(UInt(pthread_self())) }
        }
        for j in 0..<300 { pool.submit(j % 3, j) }
        pool.drain()
        let s = seen.withLock { $0 }
        for lane in 0..<3 { #expect(s[lane] == Array(stride(from: lane, to: 300, by: 3))) }
        let t = threads.withLock { $0 }
        let caller = UInt(pthread_self())
        #expect((0..<3).allSatisfy { t[$0]?.count == 1 && t[$0]?.contains(caller) == false })
        #expect(Set((0..<3).compactMap { t[$0]?.first }).count == 3)
        pool.shutdown()
    }

    @Test func drainReturnsOnlyAfterEverySubmittedJobFinished() {
        let done = Atomic<Int>(0)
        let pool = LanePool<Int>(lanes: 2, name: "test-drain", maxPending: 2) { _, job in
            var x = 0
            for k in 0..<(job * 1000) { x &+= k }   // uneven work
            if x >= 0 { done.add(1, ordering: .relaxed) }
        }
        for round in 1...50 {
            for j in 0..<6 { pool.submit(j % 2, j + 1) }   // more than maxPending: submit waits for room
            pool.drain()
            #expect(done.load(ordering: .relaxed) == round * 6)
        }
        pool.shutdown()
    }

    @Test func shutdownFinishesQueuedJobs() {
        let done = Atomic<Int>(0)
        let pool = LanePool<Int>(lanes: 2, name: "test-stop") { _, _ in done.add(1, ordering: .relaxed) }
        for j in 0..<10 { pool.submit(j % 2, j) }
        pool.shutdown()
        #expect(done.load(ordering: .relaxed) == 10)
    }
}
