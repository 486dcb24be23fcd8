import Foundation
import Testing
@testable import LeadOps
import LeadRuntime
import LeadScoring
import Yams

private let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

private func writeConfig(_ text: String) throws -> String {
    let p = NSTemporaryDirectory() + "leadscore-config-\(UUID().uuidString).yaml"
    try text.write(toFile: p, atomically: true, encoding: .utf8)
    return p
}

@Suite struct ConfigLoaderTests {
    @Test func flagsBeatEnvironmentBeatFileBeatDefaults() throws {
        let file = try writeConfig("kafka:\n  bootstrap_servers: file:9092\n  group_id: file-group\nhttp:\n  port: 1111\nlog:\n  level: debug\n")
        var flags = ConfigOverrides()
        flags.groupId = "flag-group"
        let c = try ConfigLoader.load(file: file, environment: ["LEADSCORE_GROUP_ID": "env-group", "LEADSCORE_HTTP_PORT": "2222"], overrides: flags)
        #expect(c.groupId == "flag-group")
        #expect(c.httpPort == 2222)
        #expect(c.bootstrapServers == "file:9092")
        #expect(c.logLevel == "debug")
        #expect(c.checkpointIntervalSeconds == 10)
        #expect(c.inputTopics == ["leadscore.events"])
    }

    @Test func kafkaPropertiesFromEveryLayerAndSecretsAreMasked() throws {
        let file = try writeConfig("kafka:\n  properties:\n    sasl.password: hunter2\n    linger.ms: \"5\"\n")
        var flags = ConfigOverrides()
        flags.kafkaProperties = ["linger.ms": "7"]
        let c = try ConfigLoader.load(file: file, environment: ["LEADSCORE_KAFKA_SSL_KEY_PASSWORD": "s3cret"], overrides: flags)
        #expect(c.kafkaProperties["linger.ms"] == "7")
        #expect(c.kafkaProperties["ssl.key.password"] == "s3cret")
        let shown = ConfigLoader.render(c)
        #expect(!shown.contains("hunter2") && !shown.contains("s3cret"))
        #expect(shown.contains("sasl.password: \"****\""))
    }

    @Test func badValuesNameFileLineAndField() throws {
        let file = try writeConfig("kafka:\n  group_id: g\nhttp:\n  port: lots\nbogus: 1\n")
        do {
            _ = try ConfigLoader.load(file: file, environment: [:], overrides: ConfigOverrides())
            Issue.record("expected an error")
        } catch let e as ConfigError {
            #expect(e.description.contains("\(file):4: http.port: must be an integer"))
            #expect(e.description.contains("\(file):5: bogus: unknown key"))
        }
        var flags = ConfigOverrides()
        flags.startFrom = "middle"
        #expect(throws: ConfigError.self) { try ConfigLoader.load(file: nil, environment: [:], overrides: flags) }
        #expect(throws: ConfigError.self) { try ConfigLoader.load(file: nil, environment: ["LEADSCORE_HTTP_PORT": "x"], overrides: ConfigOverrides()) }
    }

    @Test func unknownKeysAreErrorsWithTheirLineAndSection() throws {
        let file = try writeConfig("kafka:\n  bootstrap_servers: b:9092\n  groupid: typo\nconsumer:\n  batch_size: 10\n  batch_wait: 3\n")
        let e = try #require(throws: ConfigError.self) { try ConfigLoader.load(file: file, environment: [:], overrides: ConfigOverrides()) }
        #expect(e.description.contains("\(file):3: kafka.groupid: unknown key (expected one of: bootstrap_servers, group_id"))
        #expect(e.description.contains("\(file):6: consumer.batch_wait: unknown key"))
    }

    @Test func everyFieldIsCheckedAndNamed() throws {
        let cases: [(String, String)] = [
            ("checkpoint:\n  interval: soon\n", ":2: checkpoint.interval: bad duration 'soon'"),
            ("start_from: middle\n", ":1: start_from: must be earliest or latest"),
            ("rebuild_from: yesterday\n", ":1: rebuild_from: must be earliest or none"),
            ("quiet_until: 2026-01-01T00:00:00\n", ":1: quiet_until: must be an ISO-8601 date-time with offset"),
            ("max_future_skew: 1y\n", ":1: max_future_skew: bad duration '1y'"),
            ("dead_letter:\n  max_bytes: 10\n", ":2: dead_letter.max_bytes: must be at least 1024"),
            ("http:\n  port: 70000\n", ":2: http.port: must be 0…65535"),
            ("log:\n  level: loud\n", ":2: log.level: must be one of trace"),
            ("log:\n  format: xml\n", ":2: log.format: must be auto, text or json"),
            ("topics:\n  inputs: []\n", ":2: topics.inputs: must be a non-empty list"),
            ("kafka:\n  properties: [a, b]\n", ":2: kafka.properties: must be a mapping"),
            ("kafka: 3\n", ":1: kafka: must be a mapping"),
        ]
        for (yaml, message) in cases {
            let file = try writeConfig(yaml)
            let e = try #require(throws: ConfigError.self, "\(yaml)") { try ConfigLoader.load(file: file, environment: [:], overrides: ConfigOverrides()) }
            #expect(e.description.contains(file + message), "\(e.description)")
        }
        let syntax = try writeConfig("kafka: [unclosed\n")
        let e = try #require(throws: ConfigError.self) { try ConfigLoader.load(file: syntax, environment: [:], overrides: ConfigOverrides()) }
        #expect(e.description.hasPrefix("\(syntax):2: YAML syntax"), "\(e.description)")
        let twice = try writeConfig("http:\n  port: 1\n  host: a\n  port: 2\n")
        let d = try #require(throws: ConfigError.self) { try ConfigLoader.load(file: twice, environment: [:], overrides: ConfigOverrides()) }
        #expect(d.description == "\(twice):4: YAML syntax: duplicate key \"port\" (first at line 2)", "\(d.description)")
        #expect(throws: ConfigError.self) { try ConfigLoader.load(file: "/nonexistent/leadscore.yaml", environment: [:], overrides: ConfigOverrides()) }
    }

    @Test func environmentCoversEveryFlagAndFlagsStillWin() throws {
        let env = ["LEADSCORE_BOOTSTRAP_SERVERS": "env:9092", "LEADSCORE_INPUT_TOPIC": "web, crm",
                   "LEADSCORE_RULES": "/env/rules.yaml", "LEADSCORE_DATA_DIR": "/env/data", "LEADSCORE_HTTP_HOST": "0.0.0.0",
                   "LEADSCORE_LOG_LEVEL": "warning", "LEADSCORE_LOG_FORMAT": "json", "LEADSCORE_START_FROM": "latest",
                   "LEADSCORE_QUIET_UNTIL": "2026-01-01T00:00:00Z", "LEADSCORE_CHECKPOINT_INTERVAL": "30s",
                   "LEADSCORE_GROUP_INSTANCE_ID": "pod-0", "LEADSCORE_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"]
        let file = try writeConfig("topics:\n  inputs: [file-topic]\ndata_dir: /file/data\nlog:\n  level: debug\n")
        let c = try ConfigLoader.load(file: file, environment: env, overrides: ConfigOverrides())
        #expect(c.bootstrapServers == "env:9092" && c.inputTopics == ["web", "crm"] && c.rulesPath == "/env/rules.yaml")
        #expect(c.dataDir == "/env/data" && c.httpHost == "0.0.0.0" && c.logLevel == "warning" && c.logFormat == "json")
        #expect(c.startFrom == "latest" && c.quietUntil == ISO8601.parse("2026-01-01T00:00:00Z") && c.checkpointIntervalSeconds == 30)
        #expect(c.groupInstanceId == "pod-0" && c.kafkaProperties["security.protocol"] == "SASL_SSL")
        var flags = ConfigOverrides()
        flags.inputTopics = ["flag-a", "flag-b"]
        flags.dataDir = "/flag/data"
        flags.logLevel = "error"
        flags.rebuildFrom = "earliest"
        let f = try ConfigLoader.load(file: file, environment: env, overrides: flags)
        #expect(f.inputTopics == ["flag-a", "flag-b"] && f.dataDir == "/flag/data" && f.logLevel == "error" && f.rebuildFromEarliest)
        // Without flags or environment the file wins over the defaults; without a file the defaults hold.
        let onlyFile = try ConfigLoader.load(file: file, environment: [:], overrides: ConfigOverrides())
        #expect(onlyFile.inputTopics == ["file-topic"] && onlyFile.dataDir == "/file/data" && onlyFile.logLevel == "debug")
        let defaults = try ConfigLoader.load(file: nil, environment: [:], overrides: ConfigOverrides())
        #expect(defaults.bootstrapServers == "127.0.0.1:9092" && defaults.groupId == "leadscore" && defaults.httpPort == 9464)
        #expect(defaults.stageChangesTopic == "leadscore.stage-changes" && defaults.alertsTopic == "leadscore.alerts" && defaults.deadLetterTopic == "leadscore.dlq")
    }

    @Test func printConfigMasksEverySecretAndLoadsBack() throws {
        let secrets = ["sasl.password": "p1", "ssl.key.password": "p2", "sasl.oauthbearer.client.secret": "p3",
                       "sasl.jaas.config": "p4", "ssl.key.pem": "p5"]
        var flags = ConfigOverrides()
        flags.kafkaProperties = secrets.merging(["sasl.username": "leadscore", "security.protocol": "SASL_SSL"]) { a, _ in a }
        flags.quietUntil = "2026-03-01T12:00:00Z"
        flags.rules = "/etc/leadscore/rules.yaml"      // absolute: relative paths would resolve against the new file
        flags.dataDir = "/var/lib/leadscore"
        var c = try ConfigLoader.load(file: nil, environment: [:], overrides: flags)
        c.maxDeadLetterBytes = 5000
        let shown = ConfigLoader.render(c)
        #expect(shown.contains("dead_letter:\n  max_bytes: 5000\n"))
        for (k, v) in secrets {
            #expect(!shown.contains("\"\(v)\""), "\(k) leaked")
            #expect(shown.contains("\(k): \"****\""))
        }
        #expect(shown.contains("sasl.username: \"leadscore\"") && shown.contains("security.protocol: \"SASL_SSL\""))
        // The rendered configuration is itself a valid config file with the same effective values.
        let again = try ConfigLoader.load(file: try writeConfig(shown), environment: [:], overrides: ConfigOverrides())
        #expect(again.inputTopics == c.inputTopics && again.httpPort == c.httpPort && again.quietUntil == c.quietUntil)
        #expect(again.maxFutureSkew == c.maxFutureSkew && again.checkpointIntervalSeconds == c.checkpointIntervalSeconds)
        #expect(again.maxDeadLetterBytes == 5000)
        #expect(ConfigLoader.render(again) == shown)
    }

    @Test func theShippedExampleLoadsAndResolvesPathsAgainstItself() throws {
        let c = try ConfigLoader.load(file: repo + "/examples/leadscore.yaml", environment: [:], overrides: ConfigOverrides())
        #expect(c.rulesPath == repo + "/examples/rules.yaml")
        #expect(FileManager.default.fileExists(atPath: c.rulesPath))
        #expect(c.kafkaProperties["session.timeout.ms"] == "10000")
        #expect(c.maxDeadLetterBytes == 900_000)
    }
}

extension ConfigLoaderTests {
    /// The example's commented-out keys (`  # key: value`) are valid as written: uncommented, the file still loads.
    @Test func theExamplesCommentedKeysAreValidToo() throws {
        let text = try String(contentsOfFile: repo + "/examples/leadscore.yaml", encoding: .utf8)
        var uncommented: [String] = []
        var count = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if let m = try #/^(\s*)# ([a-z_.]+: .*)$/#.wholeMatch(in: String(line)) {
                uncommented.append(String(m.1) + String(m.2)); count += 1
            } else { uncommented.append(String(line)) }
        }
        #expect(count >= 10)
        let dir = NSTemporaryDirectory() + "leadscore-example-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let file = dir + "/leadscore.yaml"
        try uncommented.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let c = try ConfigLoader.load(file: file, environment: [:], overrides: ConfigOverrides())
        #expect(c.groupInstanceId == "leadscore-0" && c.scoresTopic == "leadscore.scores" && c.quietUntil != nil)
        #expect(c.kafkaProperties["security.protocol"] == "SASL_SSL" && c.kafkaProperties["ssl.key.location"] != nil)
        let shown = ConfigLoader.render(c)
        #expect(!shown.contains("change-me"))
    }
}

/// Every file under deploy/ parses; the configs in it load with the daemon's loader and their rules validate;
/// the dashboard and docs name only metrics the daemon exports.
@Suite struct DeployFilesTests {
    private func files(under dir: String, ending: [String]) -> [String] {
        let e = FileManager.default.enumerator(atPath: repo + "/" + dir)
        var out: [String] = []
        while let f = e?.nextObject() as? String { if ending.contains(where: { f.hasSuffix($0) }) { out.append(repo + "/" + dir + "/" + f) } }
        return out.sorted()
    }

    private var runtimeMetricNames: Set<String> {
        get throws {
            var names = Set<String>()
            for file in ["RuntimeMetrics.swift", "KafkaStatisticsMetrics.swift"] {
                let src = try String(contentsOfFile: repo + "/Sources/LeadRuntime/" + file, encoding: .utf8)
                names.formUnion(src.matches(of: #/label: "(leadscore_[a-z_]+)"/#).map { String($0.1) })
            }
            return names
        }
    }

    @Test func everyYAMLAndJSONFileParses() throws {
        let yamls = files(under: "deploy", ending: [".yaml", ".yml"])
        #expect(yamls.count >= 8, "\(yamls)")
        for f in yamls {
            let text = try String(contentsOfFile: f, encoding: .utf8)
            let docs = Array(try Yams.load_all(yaml: text))
            #expect(!docs.isEmpty, "\(f)")
            for d in docs { #expect(d is [String: Any], "\(f): every document is a mapping") }
        }
        let jsons = files(under: "deploy", ending: [".json"])
        #expect(!jsons.isEmpty)
        for f in jsons {
            let data = try #require(FileManager.default.contents(atPath: f))
            #expect(try JSONSerialization.jsonObject(with: data) is [String: Any], "\(f)")
        }
    }

    @Test func theContainerConfigLoadsAndItsRulesValidate() throws {
        let c = try ConfigLoader.load(file: repo + "/deploy/leadscore.yaml", environment: [:], overrides: ConfigOverrides())
        #expect(c.dataDir == "/var/lib/leadscore" && c.httpHost == "0.0.0.0" && c.logFormat == "json")
        #expect(c.rulesPath == "/etc/leadscore/rules.yaml" && c.rebuildFromEarliest)
        // The image ships examples/rules.yaml as /etc/leadscore/rules.yaml (deploy/Dockerfile).
        let dockerfile = try String(contentsOfFile: repo + "/deploy/Dockerfile", encoding: .utf8)
        #expect(dockerfile.contains("COPY examples/rules.yaml /etc/leadscore/rules.yaml"))
        #expect(dockerfile.contains("COPY deploy/leadscore.yaml /etc/leadscore/leadscore.yaml"))
        #expect(dockerfile.contains(#"ENTRYPOINT ["/usr/local/bin/leadscored", "run", "--config", "/etc/leadscore/leadscore.yaml"]"#))
        _ = try RulesLoader.load(path: repo + "/examples/rules.yaml")
    }

    @Test func theConfigMapCarriesALoadableConfigAndValidRules() throws {
        let text = try String(contentsOfFile: repo + "/deploy/k8s/configmap.yaml", encoding: .utf8)
        let cm = try #require(try Yams.load(yaml: text) as? [String: Any])
        #expect(cm["kind"] as? String == "ConfigMap")
        let data = try #require(cm["data"] as? [String: String])
        let config = try #require(data["leadscore.yaml"])
        let rules = try #require(data["rules.yaml"])
        // The same config as the image's (deploy/leadscore.yaml), kept in sync.
        #expect(config == (try String(contentsOfFile: repo + "/deploy/leadscore.yaml", encoding: .utf8)))
        let dir = NSTemporaryDirectory() + "leadscore-cm-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try config.write(toFile: dir + "/leadscore.yaml", atomically: true, encoding: .utf8)
        try rules.write(toFile: dir + "/rules.yaml", atomically: true, encoding: .utf8)
        let c = try ConfigLoader.load(file: dir + "/leadscore.yaml", environment: [:], overrides: ConfigOverrides())
        #expect(c.rulesPath == "/etc/leadscore/rules.yaml" && c.dataDir == "/var/lib/leadscore")
        let parsed = try RulesLoader.load(path: dir + "/rules.yaml")
        // The same rules as the shipped example (so docs/rules.md and replay previews apply).
        #expect(parsed.version == (try RulesLoader.load(path: repo + "/examples/rules.yaml")).version)
        // The StatefulSet mounts that ConfigMap where the config says, and a volume claim at data_dir.
        let sts = try #require(try Yams.load(yaml: String(contentsOfFile: repo + "/deploy/k8s/statefulset.yaml", encoding: .utf8)) as? [String: Any])
        let stsText = try String(contentsOfFile: repo + "/deploy/k8s/statefulset.yaml", encoding: .utf8)
        #expect(sts["kind"] as? String == "StatefulSet")
        #expect(stsText.contains("mountPath: /etc/leadscore") && stsText.contains("mountPath: /var/lib/leadscore") && stsText.contains("volumeClaimTemplates"))
        #expect(stsText.contains("prometheus.io/scrape: \"true\"") && stsText.contains("prometheus.io/port: \"9464\""))
    }

    @Test func theComposeConfigLoads() throws {
        // compose runs the image built from deploy/Dockerfile, i.e. deploy/leadscore.yaml, against the `kafka` service.
        let compose = try #require(try Yams.load(yaml: String(contentsOfFile: repo + "/deploy/compose.yaml", encoding: .utf8)) as? [String: Any])
        let services = try #require(compose["services"] as? [String: Any])
        for s in ["kafka", "leadscored", "prometheus", "grafana"] { #expect(services[s] != nil, "\(s)") }
        let c = try ConfigLoader.load(file: repo + "/deploy/leadscore.yaml", environment: [:], overrides: ConfigOverrides())
        #expect(c.bootstrapServers == "kafka:9092")
    }

    @Test func theDashboardAndTheDocsNameRealMetrics() throws {
        let names = try runtimeMetricNames
        #expect(names.count >= 20)
        let dashboard = try String(contentsOfFile: repo + "/deploy/grafana/leadscore-dashboard.json", encoding: .utf8)
        let used = Set(dashboard.matches(of: #/leadscore_[a-z_]+/#).map { String($0.0) })
        #expect(!used.isEmpty)
        for u in used {
            let base = u.replacing(#/_(bucket|sum|count)$/#, with: "")
            #expect(names.contains(u) || names.contains(base), "dashboard uses \(u), which the daemon does not export")
        }
        let doc = try String(contentsOfFile: repo + "/docs/metrics.md", encoding: .utf8)
        for n in names { #expect(doc.contains("`\(n)`"), "docs/metrics.md does not document \(n)") }
        for u in Set(doc.matches(of: #/leadscore_[a-z_]+/#).map { String($0.0) }) {
            let base = u.replacing(#/_(bucket|sum|count)$/#, with: "")
            #expect(names.contains(u) || names.contains(base), "docs/metrics.md names \(u), which the daemon does not export")
        }
    }
}
