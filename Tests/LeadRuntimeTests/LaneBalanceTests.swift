import Testing
@testable import LeadRuntime

@Suite struct LaneBalanceTests {
    @Test func heavyPartitionsAreSpreadSoNoLaneCarriesMostOfTheLoad() throws {
        // Round-robin put both heavy partitions (0 and 2) on lane 0: 1300 vs 200.
        let loads: [(partition: Int32, load: Int, lane: Int)] = [(0, 700, 0), (1, 100, 1), (2, 600, 0), (3, 100, 1)]
        let lanes = try #require(LaneBalance.assign(loads: loads, lanes: 2))
        var total = [0, 0]
        for l in loads { total[lanes[l.partition]!] += l.load }
        #expect(total.max()! == 800)                 // 700+100 | 600+100: the best split
        #expect(lanes[0] != lanes[2])
        #expect(Set(lanes.keys) == [0, 1, 2, 3])     // every partition keeps a lane
    }

    @Test func aBalancedAssignmentIsLeftAlone() {
        let loads: [(partition: Int32, load: Int, lane: Int)] = [(0, 500, 0), (1, 480, 1), (2, 20, 0), (3, 30, 1)]
        #expect(LaneBalance.assign(loads: loads, lanes: 2) == nil)
        #expect(LaneBalance.assign(loads: loads, lanes: 1) == nil)
        #expect(LaneBalance.assign(loads: [], lanes: 2) == nil)
    }

    @Test func idlePartitionsStillGetALane() throws {
        let loads: [(partition: Int32, load: Int, lane: Int)] = [(5, 900, 0), (6, 0, 1), (7, 800, 0)]
        let lanes = try #require(LaneBalance.assign(loads: loads, lanes: 2))
        #expect(lanes[5] != lanes[7])
        #expect(lanes[6] != nil)
    }
}
