import Foundation
import Synchronization
import Testing
@testable import LeadRuntime

@Suite struct LaneGangTests {
    @Test func everyLaneRunsOncePerRunOnItsOwnThread() {
        let gang = LaneGang(lanes: 3, name: "test-lane")
        defer { gang.shutdown() }
        let runs = Mutex<[Int: Int]>([:])
        let threads = Mutex<[Int: Set<UInt>]>([:])
        let caller = UInt(pthread_self())
        for _ in 0..<200 {
            gang.run { lane in
                let me = UInt(pthread_self())
                runs.withLock { $0[lane, default: 0] += 1 }
                threads.withLock { $0[lane, default: []].insert(me) }
            }
        }
        #expect(runs.withLock { $0 } == [0: 200, 1: 200, 2: 200])
        let ids = threads.withLock { $0 }
        // Lane 0 is the caller; lanes 1 and 2 each always run on one thread of their own.
        #expect(ids[0] == [caller])
        #expect(ids[1]?.count == 1 && ids[2]?.count == 1)
        #expect(Set([ids[0]!.first!, ids[1]!.first!, ids[2]!.first!]).count == 3)
    }

    @Test func runReturnsOnlyWhenEveryLaneHasFinished() {
        let gang = LaneGang(lanes: 2, name: "test-join")
        defer { gang.shutdown() }
        // Each lane writes its own slot; after `run` the caller must see every write (join + memory order).
        var slots = [Int](repeating: 0, count: 2)
        for round in 1...500 {
            slots.withUnsafeMutableBufferPointer { buf in
                nonisolated(unsafe) let b = buf
                gang.run { lane in
                    var x = 0
                    for k in 0..<(lane == 1 ? 2000 : 10) { x &+= k }   // the other lane finishes later
                    b[lane] = round + (x & 0)
                }
            }
            #expect(slots == [round, round])
            if slots != [round, round] { break }
        }
    }

    @Test func oneLaneRunsOnTheCaller() {
        let gang = LaneGang(lanes: 1, name: "single")
        let caller = UInt(pthread_self())
        var ranOnCaller = false
        gang.run { lane in ranOnCaller = lane == 0 && UInt(pthread_self()) == caller }
        #expect(ranOnCaller)
        gang.shutdown()
    }
}
