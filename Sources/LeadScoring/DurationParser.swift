/// Durations in rules files: a number and a unit, `90s`, `15m`, `1.5h`, `30d`.
enum DurationParser {
    static func parse(_ text: String) -> EventDuration? {
        guard let unit = text.last else { return nil }
        let scale: Double
        switch unit {
        case "s": scale = Double(TimeUnit.second)
        case "m": scale = Double(TimeUnit.minute)
        case "h": scale = Double(TimeUnit.hour)
        case "d": scale = Double(TimeUnit.day)
        default: return nil
        }
        let number = text.dropLast()
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              let v = Double(number), v.isFinite else { return nil }
        return EventDuration((v * scale).rounded())
    }

    /// The canonical text of a duration (for `rules_version`).
    static func format(_ d: EventDuration) -> String { "\(d)us" }
}
