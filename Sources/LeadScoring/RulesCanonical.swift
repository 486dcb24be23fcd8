/// A normalized text of a rules model, independent of YAML layout, comments and key order; its hash is the
/// `rules_version` every record carries, so consumers can tell which rules produced it.
enum RulesCanonical {
    static func version(of r: Rules) -> String {
        let h = StableHash.fnv1a64(text(of: r))
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    static func text(of r: Rules) -> String {
        var s = "v1;half_life=\(r.halfLife);min=\(num(r.scoreMin));max=\(num(r.scoreMax));dedupe=\(r.dedupeWindow);"
        for f in r.fit { s += "fit(\(str(f.name)),\(num(f.points)),\(cond(f.when, r)));" }
        for e in r.engagement {
            s += "eng(\(str(e.name)),\(num(e.points)),max=\(num(e.maxPoints)),limit=\(e.limit.map { "\($0.count)/\($0.per)" } ?? "-"),high=\(e.highIntent),\(cond(e.when, r)));"
        }
        for st in Stage.funnel { if let c = r.stages.enter[st] { s += "stage(\(st.name),\(cond(c, r)));" } }
        if let d = r.stages.disqualify { s += "dq(\(cond(d.when, r)),\(d.until.map { cond($0, r) } ?? "-"));" }
        if let rc = r.stages.recycle { s += "recycle(\(num(rc.below)),\(rc.from.map(\.name).sorted()));" }
        s += "grades(\(num(r.grades.fitA)),\(num(r.grades.fitB)),\(num(r.grades.engagement1)),\(num(r.grades.engagement2)));"
        s += "alerts(\(r.alerts.onStages.map(\.name).sorted()),\(r.alerts.onIntent.map { "\($0.minStage.name)/\($0.suppressFor)" } ?? "-"))"
        return s
    }

    static func num(_ d: Double?) -> String { d.map { "\($0)" } ?? "-" }
    static func str(_ s: String) -> String { "\(s.utf8.count):\(s)" }

    static func value(_ v: TraitValue) -> String {
        switch v {
        case .string(let s): "s" + str(s)
        case .number(let d): "n\(d)"
        case .bool(let b): "b\(b)"
        case .null: "null"
        case .other: "other"
        }
    }

    static func cond(_ c: Condition, _ r: Rules) -> String {
        switch c {
        case .trait(let name, let t):
            let test: String
            switch t {
            case .eq(let v): test = "eq " + value(v)
            case .oneOf(let vs): test = "in " + vs.map(value).joined(separator: ",")
            case .matches(let p): test = "re " + str(p.source)
            case .range(let nr): test = "range \(num(nr.gte)) \(num(nr.lte))"
            case .exists: test = "exists"
            }
            return "trait(\(str(name)) \(test))"
        case .event(let e): return "event(\(str(e)))"
        case .page(let p): return "page(\(str(p.source)))"
        case .score(let k, let nr): return "score(\(k) \(num(nr.gte)) \(num(nr.lte)))"
        case .count(let i, let nr, let w): return "count(\(str(r.engagement[i].name)) \(num(nr.gte)) \(num(nr.lte)) \(w))"
        case .all(let cs): return "all(" + cs.map { cond($0, r) }.joined(separator: ",") + ")"
        case .any(let cs): return "any(" + cs.map { cond($0, r) }.joined(separator: ",") + ")"
        case .not(let x): return "not(" + cond(x, r) + ")"
        }
    }
}
