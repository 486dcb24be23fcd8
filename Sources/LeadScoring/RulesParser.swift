import Yams

/// Walks the YAML tree of a rules file, building the model and collecting every problem with its line.
struct RulesParser {
    let file: String
    var problems: [RulesProblem] = []
    /// Engagement rule names → index, known before conditions are parsed (for `count`).
    private var engagementIndex: [String: Int] = [:]

    init(file: String) { self.file = file }

    mutating func problem(_ node: Node?, _ message: String) {
        problems.append(RulesProblem(file: file, line: node?.mark?.line ?? 1, message: message))
    }

    // MARK: - shape helpers

    /// The entries of a mapping, reporting keys outside `allowed` (and duplicated keys).
    mutating func mapping(_ node: Node, _ what: String, allowed: [String]) -> [String: Node]? {
        guard case .mapping(let m) = node else { problem(node, "\(what) must be a mapping"); return nil }
        var out: [String: Node] = [:]
        for (k, v) in m {
            guard let key = k.scalar?.string else { problem(k, "\(what): keys must be plain names"); continue }
            if !allowed.contains(key) {
                problem(k, "unknown key '\(key)' in \(what) (expected one of: \(allowed.joined(separator: ", ")))")
                continue
            }
            if out[key] != nil { problem(k, "duplicate key '\(key)' in \(what)") }
            out[key] = v
        }
        return out
    }

    mutating func string(_ node: Node, _ what: String) -> String? {
        guard case .scalar(let s) = node, !(s.style == .plain && (s.string == "~" || s.string == "null" || s.string.isEmpty)) else {
            problem(node, "\(what) must be a string"); return nil
        }
        return s.string
    }

    mutating func number(_ node: Node, _ what: String) -> Double? {
        guard case .scalar(let s) = node, s.style == .plain, let v = Double(s.string.replacingOccurrences(of: "_", with: "")), v.isFinite else {
            problem(node, "\(what) must be a number"); return nil
        }
        return v
    }

    mutating func integer(_ node: Node, _ what: String) -> Int? {
        guard case .scalar(let s) = node, s.style == .plain, let v = Int(s.string) else {
            problem(node, "\(what) must be an integer"); return nil
        }
        return v
    }

    mutating func duration(_ node: Node, _ what: String) -> EventDuration? {
        guard case .scalar(let s) = node, let d = DurationParser.parse(s.string) else {
            problem(node, "\(what): bad duration \(node.scalar.map { "'\($0.string)'" } ?? "") (a number and a unit s, m, h or d, e.g. 30d)")
            return nil
        }
        return d
    }

    mutating func stage(_ node: Node, _ what: String) -> Stage? {
        guard let name = string(node, what) else { return nil }
        guard let s = Stage(name: name) else {
            problem(node, "\(what): unknown stage '\(name)' (stages: \(Stage.allCases.map(\.name).joined(separator: ", ")))")
            return nil
        }
        return s
    }

    /// A YAML scalar as a trait value: quoted → string, plain numbers → number, true/false → bool.
    func traitValue(_ node: Node) -> TraitValue? {
        guard case .scalar(let s) = node else { return nil }
        if s.style != .plain { return .string(s.string) }
        switch s.string {
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case "null", "~", "": return .null
        default: break
        }
        if let d = Double(s.string), d.isFinite { return .number(d) }
        return .string(s.string)
    }

    // MARK: - document

    mutating func parseRoot(_ root: Node) -> Rules? {
        guard let top = mapping(root, "the rules file", allowed: ["version", "decay", "score", "dedupe", "fit", "engagement", "stages", "grades", "alerts"]) else { return nil }
        if let v = top["version"] {
            if integer(v, "version") != 1 && v.scalar.flatMap({ Int($0.string) }) != nil { problem(v, "unsupported version (only `version: 1` exists)") }
        } else {
            problem(root, "missing `version: 1`")
        }
        var halfLife = 30 * TimeUnit.day
        if let d = top["decay"], let m = mapping(d, "decay", allowed: ["half_life"]) {
            if let h = m["half_life"], let v = duration(h, "decay.half_life") {
                if v <= 0 { problem(h, "decay.half_life must be greater than 0") } else { halfLife = v }
            }
        }
        var scoreMin: Double?, scoreMax: Double?
        if let s = top["score"], let m = mapping(s, "score", allowed: ["min", "max"]) {
            scoreMin = m["min"].flatMap { number($0, "score.min") }
            scoreMax = m["max"].flatMap { number($0, "score.max") }
            if let a = scoreMin, let b = scoreMax, a > b { problem(s, "score.min (\(a)) is greater than score.max (\(b))") }
        }
        var window = 24 * TimeUnit.hour
        if let d = top["dedupe"], let m = mapping(d, "dedupe", allowed: ["window"]) {
            if let w = m["window"], let v = duration(w, "dedupe.window") {
                if v < 0 { problem(w, "dedupe.window must not be negative") } else { window = v }
            }
        }

        // Rule names first: `count` conditions may refer to any engagement rule, wherever it is written.
        var seenNames: [String: Int] = [:]
        func names(_ list: Node?) -> [(String, Node)] {
            guard case .sequence(let s)? = list else { return [] }
            return s.compactMap { item in
                guard case .mapping(let m) = item, let n = m["name"]?.scalar?.string else { return nil }
                return (n, m["name"]!)
            }
        }
        for (n, node) in names(top["fit"]) + names(top["engagement"]) {
            if seenNames[n] != nil { problem(node, "duplicate rule name '\(n)' (first at line \(seenNames[n]!))") } else { seenNames[n] = node.mark?.line ?? 0 }
        }
        for (i, (n, _)) in names(top["engagement"]).enumerated() where engagementIndex[n] == nil { engagementIndex[n] = i }

        var fit: [FitRule] = []
        if let f = top["fit"] {
            if case .sequence(let s) = f {
                for item in s { if let r = parseFitRule(item) { fit.append(r) } }
            } else { problem(f, "fit must be a list of rules") }
        }
        var engagement: [EngagementRule] = []
        if let e = top["engagement"] {
            if case .sequence(let s) = e {
                for item in s { if let r = parseEngagementRule(item) { engagement.append(r) } }
            } else { problem(e, "engagement must be a list of rules") }
        }
        let stages = top["stages"].map { parseStages($0) } ?? StageRules(enter: [:], disqualify: nil, recycle: nil)
        let grades = top["grades"].map { parseGrades($0) } ?? Grades(fitA: 30, fitB: 15, engagement1: 60, engagement2: 30)
        let alerts = top["alerts"].map { parseAlerts($0) } ?? AlertRules(onStages: [], onIntent: nil)

        guard problems.isEmpty else { return nil }
        var rules = Rules(version: "", halfLife: halfLife, scoreMin: scoreMin, scoreMax: scoreMax, dedupeWindow: window,
                          fit: fit, engagement: engagement, stages: stages, grades: grades, alerts: alerts)
        rules.version = RulesCanonical.version(of: rules)
        return rules
    }

    // MARK: - rules

    mutating func parseFitRule(_ node: Node) -> FitRule? {
        guard let m = mapping(node, "fit rule", allowed: ["name", "when", "points"]) else { return nil }
        let name = required(m, "name", node, "fit rule").flatMap { string($0, "fit rule name") }
        let when = required(m, "when", node, "fit rule \(name ?? "")").flatMap { condition($0) }
        let points = required(m, "points", node, "fit rule \(name ?? "")").flatMap { number($0, "points") }
        guard let name, let when, let points else { return nil }
        return FitRule(name: name, when: when, points: points)
    }

    mutating func parseEngagementRule(_ node: Node) -> EngagementRule? {
        guard let m = mapping(node, "engagement rule", allowed: ["name", "when", "points", "max_points", "limit", "intent"]) else { return nil }
        let name = required(m, "name", node, "engagement rule").flatMap { string($0, "engagement rule name") }
        let label = "engagement rule \(name ?? "")"
        let when = required(m, "when", node, label).flatMap { condition($0) }
        let points = required(m, "points", node, label).flatMap { number($0, "points") }
        var maxPoints: Double?
        if let mp = m["max_points"] {
            maxPoints = number(mp, "max_points")
            if let v = maxPoints, v < 0 { problem(mp, "max_points must not be negative"); maxPoints = nil }
        }
        var limit: RateLimit?
        var limitOK = true
        if let l = m["limit"] {
            limitOK = false
            if let lm = mapping(l, "limit", allowed: ["count", "per"]) {
                let c = required(lm, "count", l, "limit").flatMap { integer($0, "limit.count") }
                let per = required(lm, "per", l, "limit").flatMap { duration($0, "limit.per") }
                if let c, c < 1 { problem(lm["count"], "limit.count must be at least 1") }
                if let per, per <= 0 { problem(lm["per"], "limit.per must be greater than 0") }
                if let c, let per, c >= 1, per > 0 { limit = RateLimit(count: c, per: per); limitOK = true }
            }
        }
        var high = false
        if let i = m["intent"], let v = string(i, "intent") {
            switch v {
            case "high": high = true
            case "normal", "low", "none": high = false
            default: problem(i, "intent must be high, normal or low")
            }
        }
        guard let name, let when, let points, limitOK else { return nil }
        return EngagementRule(name: name, when: when, points: points, maxPoints: maxPoints, limit: limit, highIntent: high)
    }

    mutating func required(_ m: [String: Node], _ key: String, _ parent: Node, _ what: String) -> Node? {
        if let v = m[key] { return v }
        problem(parent, "\(what): missing '\(key)'")
        return nil
    }

    // MARK: - conditions

    static let conditionKeys = ["trait", "eq", "in", "matches", "gte", "lte", "exists", "event", "page", "score", "fit",
                                "engagement", "count", "all", "any", "not"]

    mutating func condition(_ node: Node) -> Condition? {
        guard let m = mapping(node, "condition", allowed: Self.conditionKeys) else { return nil }
        let kinds = ["trait", "event", "page", "score", "fit", "engagement", "count", "all", "any", "not"].filter { m[$0] != nil }
        guard kinds.count == 1, let kind = kinds.first else {
            problem(node, kinds.isEmpty ? "condition needs one of: trait, event, page, score, fit, engagement, count, all, any, not"
                                        : "condition has several kinds (\(kinds.joined(separator: ", "))); combine them with all/any")
            return nil
        }
        let traitOps = ["eq", "in", "matches", "gte", "lte", "exists"].filter { m[$0] != nil }
        if kind != "trait", let op = traitOps.first {
            problem(m[op], "'\(op)' only applies to a trait condition")
            return nil
        }
        switch kind {
        case "trait": return traitCondition(m, node)
        case "event": return m["event"].flatMap { string($0, "event") }.map { .event($0) }
        case "page":
            guard let src = m["page"].flatMap({ string($0, "page") }) else { return nil }
            return regex(src, m["page"]!).map { .page($0) }
        case "score", "fit", "engagement":
            let k: ScoreKind = kind == "score" ? .total : kind == "fit" ? .fit : .engagement
            return range(m[kind]!, kind).map { .score(k, $0) }
        case "count":
            guard let cm = mapping(m["count"]!, "count", allowed: ["rule", "gte", "lte", "within"]) else { return nil }
            let rn = required(cm, "rule", m["count"]!, "count").flatMap { string($0, "count.rule") }
            let within = required(cm, "within", m["count"]!, "count").flatMap { duration($0, "count.within") }
            let r = bounds(cm, "count")
            if let within, within <= 0 { problem(cm["within"], "count.within must be greater than 0") }
            guard let rn else { return nil }
            guard let idx = engagementIndex[rn] else {
                problem(cm["rule"], "count: unknown engagement rule '\(rn)'")
                return nil
            }
            guard let within, within > 0, let r else { return nil }
            return .count(rule: idx, range: r, within: within)
        case "all", "any":
            guard case .sequence(let s) = m[kind]!, !s.isEmpty else { problem(m[kind], "\(kind) must be a non-empty list of conditions"); return nil }
            let parts = s.map { condition($0) }
            guard parts.allSatisfy({ $0 != nil }) else { return nil }
            return kind == "all" ? .all(parts.map { $0! }) : .any(parts.map { $0! })
        default:
            return condition(m["not"]!).map { .not($0) }
        }
    }

    mutating func traitCondition(_ m: [String: Node], _ node: Node) -> Condition? {
        guard let name = string(m["trait"]!, "trait") else { return nil }
        var tests: [TraitTest] = []
        var ok = true
        if let e = m["eq"] {
            if let v = traitValue(e) { tests.append(.eq(v)) } else { problem(e, "eq must be a string, number or boolean"); ok = false }
        }
        if let i = m["in"] {
            if case .sequence(let s) = i, !s.isEmpty {
                let vs = s.map { traitValue($0) }
                if vs.contains(where: { $0 == nil }) { problem(i, "in must list strings, numbers or booleans"); ok = false }
                else { tests.append(.oneOf(vs.map { $0! })) }
            } else { problem(i, "in must be a non-empty list"); ok = false }
        }
        if let x = m["matches"] {
            if let src = string(x, "matches"), let p = regex(src, x) { tests.append(.matches(p)) } else { ok = false }
        }
        if m["gte"] != nil || m["lte"] != nil {
            if let r = bounds(m, "trait \(name)") { tests.append(.range(r)) } else { ok = false }
        }
        if let x = m["exists"] {
            if case .scalar(let s) = x, s.string == "true" { tests.append(.exists) }
            else if case .scalar(let s) = x, s.string == "false" { tests.append(.exists); tests = [] ; problem(x, "exists: false is written as not: { trait: \(name), exists: true }"); ok = false }
            else { problem(x, "exists must be true"); ok = false }
        }
        guard ok else { return nil }
        if tests.isEmpty { problem(node, "trait condition on '\(name)' needs a test: eq, in, matches, gte, lte or exists"); return nil }
        if tests.count == 1 { return .trait(name, tests[0]) }
        return .all(tests.map { .trait(name, $0) })
    }

    mutating func regex(_ source: String, _ node: Node) -> Pattern? {
        do { return try Pattern(source) } catch {
            problem(node, "bad regular expression '\(source)': \(error)")
            return nil
        }
    }

    /// `{gte, lte}` of a score condition.
    mutating func range(_ node: Node, _ what: String) -> NumberRange? {
        guard let m = mapping(node, what, allowed: ["gte", "lte"]) else { return nil }
        return bounds(m, what)
    }

    mutating func bounds(_ m: [String: Node], _ what: String) -> NumberRange? {
        var r = NumberRange()
        var ok = true
        if let g = m["gte"] { r.gte = number(g, "\(what): gte"); ok = ok && r.gte != nil }
        if let l = m["lte"] { r.lte = number(l, "\(what): lte"); ok = ok && r.lte != nil }
        guard ok else { return nil }
        if r.gte == nil && r.lte == nil {
            problems.append(RulesProblem(file: file, line: m.values.first?.mark?.line ?? 1, message: "\(what) needs gte and/or lte"))
            return nil
        }
        return r
    }

    // MARK: - stages, grades, alerts

    mutating func parseStages(_ node: Node) -> StageRules {
        var out = StageRules(enter: [:], disqualify: nil, recycle: nil)
        guard case .mapping(let m) = node else { problem(node, "stages must be a mapping"); return out }
        for (k, v) in m {
            guard let key = k.scalar?.string else { problem(k, "stage names must be plain names"); continue }
            switch key {
            case "lead":
                problem(k, "lead is where every contact starts; it takes no condition")
            case "mql", "sal", "sql", "opportunity", "customer", "evangelist":
                guard let sm = mapping(v, "stage \(key)", allowed: ["when"]) else { continue }
                if let w = required(sm, "when", v, "stage \(key)"), let c = condition(w) { out.enter[Stage(name: key)!] = c }
            case "disqualified":
                guard let sm = mapping(v, "stage disqualified", allowed: ["when", "until"]) else { continue }
                let w = required(sm, "when", v, "stage disqualified").flatMap { condition($0) }
                let u = sm["until"].flatMap { condition($0) }
                if let w { out.disqualify = .init(when: w, until: u) }
            case "recycle":
                guard let sm = mapping(v, "recycle", allowed: ["below", "from"]) else { continue }
                let below = required(sm, "below", v, "recycle").flatMap { number($0, "recycle.below") }
                var from: Set<Stage> = []
                if let f = required(sm, "from", v, "recycle") {
                    if case .sequence(let s) = f, !s.isEmpty {
                        for x in s {
                            guard let st = stage(x, "recycle.from") else { continue }
                            if st == .lead || st == .disqualified { problem(x, "recycle.from: a contact cannot be recycled from \(st.name)") }
                            from.insert(st)
                        }
                    } else { problem(f, "recycle.from must be a non-empty list of stages") }
                }
                if let below, !from.isEmpty { out.recycle = .init(below: below, from: from) }
            default:
                problem(k, "unknown stage '\(key)' (stages: mql, sal, sql, opportunity, customer, evangelist, disqualified; and recycle)")
            }
        }
        return out
    }

    mutating func parseGrades(_ node: Node) -> Grades {
        var g = Grades(fitA: 30, fitB: 15, engagement1: 60, engagement2: 30)
        guard let m = mapping(node, "grades", allowed: ["fit", "engagement"]) else { return g }
        if let f = m["fit"] {
            if let fm = exactKeys(f, "grades.fit", ["A", "B"]) {
                g.fitA = number(fm["A"]!, "grades.fit.A") ?? g.fitA
                g.fitB = number(fm["B"]!, "grades.fit.B") ?? g.fitB
            }
        } else { problem(node, "grades: missing 'fit'") }
        if let e = m["engagement"] {
            if let em = exactKeys(e, "grades.engagement", ["1", "2"]) {
                g.engagement1 = number(em["1"]!, "grades.engagement.1") ?? g.engagement1
                g.engagement2 = number(em["2"]!, "grades.engagement.2") ?? g.engagement2
            }
        } else { problem(node, "grades: missing 'engagement'") }
        return g
    }

    /// A mapping with exactly these keys (YAML `1:` and `"1":` both count as "1").
    mutating func exactKeys(_ node: Node, _ what: String, _ keys: [String]) -> [String: Node]? {
        guard let m = mapping(node, what, allowed: keys) else { return nil }
        let missing = keys.filter { m[$0] == nil }
        if !missing.isEmpty { problem(node, "\(what) must have exactly the keys \(keys.joined(separator: ", ")) (missing \(missing.joined(separator: ", ")))"); return nil }
        return m
    }

    mutating func parseAlerts(_ node: Node) -> AlertRules {
        var out = AlertRules(onStages: [], onIntent: nil)
        guard let m = mapping(node, "alerts", allowed: ["hot_lead"]), let h = m["hot_lead"],
              let hm = mapping(h, "alerts.hot_lead", allowed: ["on_stages", "on_intent"]) else { return out }
        if let s = hm["on_stages"] {
            if case .sequence(let list) = s {
                for x in list { if let st = stage(x, "on_stages") { out.onStages.insert(st) } }
            } else { problem(s, "on_stages must be a list of stages") }
        }
        if let i = hm["on_intent"], let im = mapping(i, "on_intent", allowed: ["min_stage", "suppress_for"]) {
            let minStage = required(im, "min_stage", i, "on_intent").flatMap { stage($0, "on_intent.min_stage") }
            let suppress = im["suppress_for"].map { duration($0, "on_intent.suppress_for") } ?? 0
            if let ms = minStage, ms == .disqualified { problem(im["min_stage"], "on_intent.min_stage cannot be disqualified") }
            if let minStage, let suppress, minStage != .disqualified { out.onIntent = .init(minStage: minStage, suppressFor: suppress) }
        }
        return out
    }
}
