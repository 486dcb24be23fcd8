import Foundation
import LeadRuntime
import LeadScoring
import Yams

/// Command-line values that override the config file and the environment.
public struct ConfigOverrides: Sendable {
    public var bootstrapServers: String?
    public var groupId: String?
    public var groupInstanceId: String?
    public var inputTopics: [String] = []
    public var rules: String?
    public var dataDir: String?
    public var httpHost: String?
    public var httpPort: Int?
    public var logLevel: String?
    public var logFormat: String?
    public var startFrom: String?
    public var quietUntil: String?
    public var checkpointInterval: String?
    public var rebuildFrom: String?
    public var stateTopic: String?
    public var ownersTopic: String?
    public var advertise: String?
    public var processingThreads: Int?
    public var kafkaProperties: [String: String] = [:]
    public init() {}
}

/// A configuration problem, naming the file/line and the field.
public struct ConfigError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

/// Merges defaults < config file (YAML) < `LEADSCORE_*` environment < command-line flags.
public enum ConfigLoader {
    public static func load(file: String?, environment: [String: String], overrides o: ConfigOverrides) throws -> DaemonConfig {
        var c = DaemonConfig()
        if let file { try applyFile(file, to: &c) }
        try applyEnvironment(environment, to: &c)
        try applyOverrides(o, to: &c)
        return c
    }

    // MARK: file

    static let schema: [String: [String]] = [
        "": ["kafka", "topics", "rules", "data_dir", "checkpoint", "start_from", "rebuild_from", "quiet_until", "max_future_skew", "consumer", "http", "log", "dead_letter"],
        "dead_letter": ["max_bytes"],
        "kafka": ["bootstrap_servers", "group_id", "group_instance_id", "client_id", "properties"],
        "topics": ["inputs", "stage_changes", "alerts", "dlq", "scores", "state", "owners"],
        "checkpoint": ["interval"],
        "consumer": ["batch_size", "batch_wait_ms", "processing_threads"],
        "http": ["host", "port", "advertise"],
        "log": ["level", "format"],
    ]

    static func applyFile(_ path: String, to c: inout DaemonConfig) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw ConfigError("\(path): cannot read the config file") }
        let node: Node?
        let yaml = String(decoding: data, as: UTF8.self)
        do { node = try Yams.compose(yaml: yaml) } catch {
            let p = YAMLSyntaxProblem(error, yaml: yaml)
            throw ConfigError("\(path):\(p.line): YAML syntax: \(p.message)")
        }
        guard let node else { return }
        var problems: [String] = []
        func at(_ n: Node, _ field: String, _ msg: String) { problems.append("\(path):\(n.mark?.line ?? 1): \(field): \(msg)") }
        func map(_ n: Node, _ section: String) -> [(String, Node)] {
            guard case .mapping(let m) = n else { at(n, section.isEmpty ? "config" : section, "must be a mapping"); return [] }
            var out: [(String, Node)] = []
            for (k, v) in m {
                let key = k.scalar?.string ?? ""
                if let allowed = schema[section], !allowed.contains(key) {
                    at(k, section.isEmpty ? key : "\(section).\(key)", "unknown key (expected one of: \(allowed.joined(separator: ", ")))")
                } else { out.append((key, v)) }
            }
            return out
        }
        func str(_ n: Node, _ f: String) -> String? {
            guard case .scalar(let s) = n else { at(n, f, "must be a string"); return nil }
            return s.string
        }
        func int(_ n: Node, _ f: String) -> Int? {
            guard case .scalar(let s) = n, let v = Int(s.string) else { at(n, f, "must be an integer"); return nil }
            return v
        }
        for (k, v) in map(node, "") {
            switch k {
            case "kafka":
                for (k2, v2) in map(v, "kafka") {
                    switch k2 {
                    case "bootstrap_servers": str(v2, "kafka.bootstrap_servers").map { c.bootstrapServers = $0 }
                    case "group_id": str(v2, "kafka.group_id").map { c.groupId = $0 }
                    case "group_instance_id": c.groupInstanceId = str(v2, "kafka.group_instance_id")
                    case "client_id": str(v2, "kafka.client_id").map { c.clientId = $0 }
                    default:
                        guard case .mapping(let pm) = v2 else { at(v2, "kafka.properties", "must be a mapping of librdkafka properties"); continue }
                        for (pk, pv) in pm {
                            guard let key = pk.scalar?.string, let val = pv.scalar?.string else { at(pk, "kafka.properties", "keys and values must be scalars"); continue }
                            c.kafkaProperties[key] = val
                        }
                    }
                }
            case "topics":
                for (k2, v2) in map(v, "topics") {
                    switch k2 {
                    case "inputs":
                        if case .sequence(let s) = v2, !s.isEmpty { c.inputTopics = s.compactMap { str($0, "topics.inputs") } }
                        else if let one = v2.scalar?.string { c.inputTopics = [one] }
                        else { at(v2, "topics.inputs", "must be a non-empty list of topics") }
                    case "stage_changes": str(v2, "topics.stage_changes").map { c.stageChangesTopic = $0 }
                    case "alerts": str(v2, "topics.alerts").map { c.alertsTopic = $0 }
                    case "dlq": str(v2, "topics.dlq").map { c.deadLetterTopic = $0 }
                    case "state": c.stateTopic = str(v2, "topics.state")
                    case "owners": c.ownersTopic = str(v2, "topics.owners")
                    default: c.scoresTopic = str(v2, "topics.scores")
                    }
                }
            case "rules": str(v, "rules").map { c.rulesPath = resolve($0, relativeTo: path) }
            case "data_dir": str(v, "data_dir").map { c.dataDir = resolve($0, relativeTo: path) }
            case "checkpoint":
                for (_, v2) in map(v, "checkpoint") {
                    if let s = str(v2, "checkpoint.interval") {
                        if let d = DurationText.seconds(s), d > 0 { c.checkpointIntervalSeconds = d } else { at(v2, "checkpoint.interval", "bad duration '\(s)' (e.g. 10s, 1m)") }
                    }
                }
            case "start_from":
                if let s = str(v, "start_from") { if ["earliest", "latest"].contains(s) { c.startFrom = s } else { at(v, "start_from", "must be earliest or latest") } }
            case "rebuild_from":
                if let s = str(v, "rebuild_from") { if s == "earliest" { c.rebuildFromEarliest = true } else if s != "none" { at(v, "rebuild_from", "must be earliest or none") } }
            case "quiet_until":
                if let s = str(v, "quiet_until") { if let t = ISO8601.parse(s) { c.quietUntil = t } else { at(v, "quiet_until", "must be an ISO-8601 date-time with offset") } }
            case "max_future_skew":
                if let s = str(v, "max_future_skew") { if let d = DurationText.seconds(s), d >= 0 { c.maxFutureSkew = EventDuration(d * 1_000_000) } else { at(v, "max_future_skew", "bad duration '\(s)'") } }
            case "dead_letter":
                for (_, v2) in map(v, "dead_letter") {
                    if let n = int(v2, "dead_letter.max_bytes") { if n >= 1024 { c.maxDeadLetterBytes = n } else { at(v2, "dead_letter.max_bytes", "must be at least 1024") } }
                }
            case "consumer":
                for (k2, v2) in map(v, "consumer") {
                    switch k2 {
                    case "batch_size": int(v2, "consumer.batch_size").map { c.batchSize = max(1, $0) }
                    case "processing_threads":
                        if let n = int(v2, "consumer.processing_threads") {
                            if (0...64).contains(n) { c.processingThreads = n } else { at(v2, "consumer.processing_threads", "must be 0 (one per core) to 64") }
                        }
                    default: int(v2, "consumer.batch_wait_ms").map { c.batchWaitMs = max(0, $0) }
                    }
                }
            case "http":
                for (k2, v2) in map(v, "http") {
                    if k2 == "host" { str(v2, "http.host").map { c.httpHost = $0 } }
                    else if k2 == "advertise" { c.advertisedAddress = str(v2, "http.advertise") }
                    else if let p = int(v2, "http.port") { if (0...65535).contains(p) { c.httpPort = p } else { at(v2, "http.port", "must be 0…65535") } }
                }
            default:
                for (k2, v2) in map(v, "log") {
                    if k2 == "level" { if let s = str(v2, "log.level") { if validLevels.contains(s) { c.logLevel = s } else { at(v2, "log.level", "must be one of \(validLevels.joined(separator: ", "))") } } }
                    else if let s = str(v2, "log.format") { if ["auto", "text", "json"].contains(s) { c.logFormat = s } else { at(v2, "log.format", "must be auto, text or json") } }
                }
            }
        }
        if !problems.isEmpty { throw ConfigError(problems.joined(separator: "\n")) }
    }

    static let validLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// Paths in a config file are relative to the file.
    static func resolve(_ p: String, relativeTo file: String) -> String {
        if p.hasPrefix("/") { return p }
        let dir = (file as NSString).deletingLastPathComponent
        return dir.isEmpty ? p : (dir as NSString).appendingPathComponent(p)
    }

    // MARK: environment and flags

    static func applyEnvironment(_ env: [String: String], to c: inout DaemonConfig) throws {
        var o = ConfigOverrides()
        o.bootstrapServers = env["LEADSCORE_BOOTSTRAP_SERVERS"]
        o.groupId = env["LEADSCORE_GROUP_ID"]
        o.groupInstanceId = env["LEADSCORE_GROUP_INSTANCE_ID"]
        o.inputTopics = env["LEADSCORE_INPUT_TOPIC"].map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? []
        o.rules = env["LEADSCORE_RULES"]
        o.dataDir = env["LEADSCORE_DATA_DIR"]
        o.httpHost = env["LEADSCORE_HTTP_HOST"]
        if let p = env["LEADSCORE_HTTP_PORT"] {
            guard let v = Int(p) else { throw ConfigError("environment LEADSCORE_HTTP_PORT: must be an integer, got '\(p)'") }
            o.httpPort = v
        }
        if let p = env["LEADSCORE_PROCESSING_THREADS"] {
            guard let v = Int(p) else { throw ConfigError("environment LEADSCORE_PROCESSING_THREADS: must be an integer, got '\(p)'") }
            o.processingThreads = v
        }
        o.logLevel = env["LEADSCORE_LOG_LEVEL"]
        o.logFormat = env["LEADSCORE_LOG_FORMAT"]
        o.startFrom = env["LEADSCORE_START_FROM"]
        o.quietUntil = env["LEADSCORE_QUIET_UNTIL"]
        o.checkpointInterval = env["LEADSCORE_CHECKPOINT_INTERVAL"]
        o.stateTopic = env["LEADSCORE_STATE_TOPIC"]
        o.ownersTopic = env["LEADSCORE_OWNERS_TOPIC"]
        o.advertise = env["LEADSCORE_ADVERTISE"]
        // LEADSCORE_KAFKA_SASL_PASSWORD=… → sasl.password
        for (k, v) in env where k.hasPrefix("LEADSCORE_KAFKA_") {
            o.kafkaProperties[k.dropFirst("LEADSCORE_KAFKA_".count).lowercased().replacingOccurrences(of: "_", with: ".")] = v
        }
        try applyOverrides(o, to: &c, source: "environment")
    }

    static func applyOverrides(_ o: ConfigOverrides, to c: inout DaemonConfig, source: String = "flag") throws {
        if let v = o.bootstrapServers { c.bootstrapServers = v }
        if let v = o.groupId { c.groupId = v }
        if let v = o.groupInstanceId { c.groupInstanceId = v }
        if !o.inputTopics.isEmpty { c.inputTopics = o.inputTopics }
        if let v = o.rules { c.rulesPath = v }
        if let v = o.dataDir { c.dataDir = v }
        if let v = o.httpHost { c.httpHost = v }
        if let v = o.stateTopic { c.stateTopic = v.isEmpty ? nil : v }
        if let v = o.ownersTopic { c.ownersTopic = v.isEmpty ? nil : v }
        if let v = o.advertise { c.advertisedAddress = v.isEmpty ? nil : v }
        if let v = o.httpPort {
            guard (0...65535).contains(v) else { throw ConfigError("\(source) http-port: must be 0…65535, got \(v)") }
            c.httpPort = v
        }
        if let v = o.logLevel {
            guard validLevels.contains(v) else { throw ConfigError("\(source) log-level: must be one of \(validLevels.joined(separator: ", ")), got '\(v)'") }
            c.logLevel = v
        }
        if let v = o.logFormat {
            guard ["auto", "text", "json"].contains(v) else { throw ConfigError("\(source) log-format: must be auto, text or json, got '\(v)'") }
            c.logFormat = v
        }
        if let v = o.startFrom {
            guard ["earliest", "latest"].contains(v) else { throw ConfigError("\(source) start-from: must be earliest or latest, got '\(v)'") }
            c.startFrom = v
        }
        if let v = o.rebuildFrom {
            guard ["earliest", "none"].contains(v) else { throw ConfigError("\(source) rebuild-from: must be earliest or none, got '\(v)'") }
            c.rebuildFromEarliest = v == "earliest"
        }
        if let v = o.quietUntil {
            guard let t = ISO8601.parse(v) else { throw ConfigError("\(source) quiet-until: must be an ISO-8601 date-time with offset, got '\(v)'") }
            c.quietUntil = t
        }
        if let v = o.checkpointInterval {
            guard let d = DurationText.seconds(v), d > 0 else { throw ConfigError("\(source) checkpoint-interval: bad duration '\(v)' (e.g. 10s)") }
            c.checkpointIntervalSeconds = d
        }
        if let v = o.processingThreads {
            guard (0...64).contains(v) else { throw ConfigError("\(source) processing-threads: must be 0 (one per core) to 64, got \(v)") }
            c.processingThreads = v
        }
        for (k, v) in o.kafkaProperties { c.kafkaProperties[k] = v }
    }

    /// The effective configuration as YAML, secrets masked (`run --print-config`).
    public static func render(_ c: DaemonConfig) -> String {
        var s = "kafka:\n  bootstrap_servers: \(c.bootstrapServers)\n  group_id: \(c.groupId)\n"
        if let g = c.groupInstanceId { s += "  group_instance_id: \(g)\n" }
        s += "  client_id: \(c.clientId)\n  properties:\n"
        for (k, v) in c.kafkaProperties.sorted(by: { $0.key < $1.key }) { s += "    \(k): \"\(DaemonConfig.isSecret(k) ? "****" : v)\"\n" }
        s += "topics:\n  inputs: [\(c.inputTopics.joined(separator: ", "))]\n  stage_changes: \(c.stageChangesTopic)\n  alerts: \(c.alertsTopic)\n  dlq: \(c.deadLetterTopic)\n"
        if let t = c.scoresTopic { s += "  scores: \(t)\n" }
        if let t = c.stateTopic { s += "  state: \(t)\n" }
        if let t = c.ownersTopic { s += "  owners: \(t)\n" }
        s += "rules: \(c.rulesPath)\ndata_dir: \(c.dataDir)\ncheckpoint:\n  interval: \(c.checkpointIntervalSeconds)s\n"
        s += "start_from: \(c.startFrom)\nrebuild_from: \(c.rebuildFromEarliest ? "earliest" : "none")\n"
        if let q = c.quietUntil { s += "quiet_until: \(ISO8601.formatMillis(q))\n" }
        s += "max_future_skew: \(c.maxFutureSkew / 1_000_000)s\ndead_letter:\n  max_bytes: \(c.maxDeadLetterBytes)\nconsumer:\n  batch_size: \(c.batchSize)\n  batch_wait_ms: \(c.batchWaitMs)\n  processing_threads: \(c.processingThreads)\n"
        s += "http:\n  host: \(c.httpHost)\n  port: \(c.httpPort)\n" + (c.advertisedAddress.map { "  advertise: \($0)\n" } ?? "") + "log:\n  level: \(c.logLevel)\n  format: \(c.logFormat)\n"
        return s
    }
}

/// `10s`, `5m`, `1h`, `1d` → seconds.
enum DurationText {
    static func seconds(_ s: String) -> Double? {
        guard let u = s.last, let v = Double(s.dropLast()) else { return Double(s) }
        switch u { case "s": return v; case "m": return v * 60; case "h": return v * 3600; case "d": return v * 86400; default: return nil }
    }
}
