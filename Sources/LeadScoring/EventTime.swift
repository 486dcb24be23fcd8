/// Event time: microseconds since the Unix epoch, UTC.
///
/// Integer microseconds keep comparisons (dedupe windows, rolling limits, suppression) exact, which
/// floating-point seconds would not; records truncate to milliseconds when they are written.
public typealias EventTime = Int64

/// A span of event time in microseconds (half-lives, windows, limits).
public typealias EventDuration = Int64

public enum TimeUnit {
    public static let second: EventDuration = 1_000_000
    public static let minute: EventDuration = 60 * second
    public static let hour: EventDuration = 60 * minute
    public static let day: EventDuration = 24 * hour
}
