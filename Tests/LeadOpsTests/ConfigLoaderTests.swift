import Foundation
import Testing
@testable import LeadOps
import LeadRuntime

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

    @Test func theShippedExampleLoadsAndResolvesPathsAgainstItself() throws {
        let c = try ConfigLoader.load(file: repo + "/examples/leadscore.yaml", environment: [:], overrides: ConfigOverrides())
        #expect(c.rulesPath == repo + "/examples/rules.yaml")
        #expect(FileManager.default.fileExists(atPath: c.rulesPath))
        #expect(c.kafkaProperties["session.timeout.ms"] == "10000")
        #expect(c.maxDeadLetterBytes == 900_000)
    }
}

@Suite struct DeployFilesTests {
    @Test func theContainerConfigLoadsAndItsRulesValidate() throws {
        let c = try ConfigLoader.load(file: repo + "/deploy/leadscore.yaml", environment: [:], overrides: ConfigOverrides())
        #expect(c.dataDir == "/var/lib/leadscore" && c.httpHost == "0.0.0.0" && c.logFormat == "json")
        // The ConfigMap carries the same config and the example rules.
        let cm = try String(contentsOfFile: repo + "/deploy/k8s/configmap.yaml", encoding: .utf8)
        #expect(cm.contains("leadscore.yaml: |") && cm.contains("rules.yaml: |") && cm.contains("half_life: 30d"))
    }
}
