/// Which lane scores which partition, from the partitions' recent load (events handed out since the last
/// balance): heaviest partitions first, each to the currently lightest lane (longest-processing-time first).
///
/// Why: a partition's events must stay on one lane, but partitions are far from equal (a Zipf stream's busiest
/// contacts make some partitions several times busier), and a lane that gets the heavy ones makes the poll thread
/// wait on its full queue while the others idle. Only applied while the lanes are drained.
enum LaneBalance {
    /// - Returns: the lane of every partition; nil when the current assignment is within `tolerance` of
    ///   the balanced one (moving partitions costs cache warmth, so small gains are not worth it).
    static func assign(loads: [(partition: Int32, load: Int, lane: Int)], lanes: Int, tolerance: Double = 1.15) -> [Int32: Int]? {
        guard lanes > 1, !loads.isEmpty else { return nil }
        var current = [Int](repeating: 0, count: lanes)
        for l in loads where l.lane < lanes { current[l.lane] += l.load }
        var total = [Int](repeating: 0, count: lanes)
        var out: [Int32: Int] = [:]
        let ordered = loads.sorted { $0.load != $1.load ? $0.load > $1.load : $0.partition < $1.partition }
        for l in ordered {
            let lane = total.indices.min { total[$0] != total[$1] ? total[$0] < total[$1] : $0 < $1 }!
            total[lane] += l.load
            out[l.partition] = lane
        }
        let before = current.max()!, after = total.max()!
        guard after > 0, Double(before) > Double(after) * tolerance else { return nil }
        return out
    }
}
