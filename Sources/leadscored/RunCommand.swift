import ArgumentParser
import Foundation
import LeadOps
import LeadRuntime
import LeadScoring
import Logging
import Metrics
import Prometheus

/// `leadscored run`: the daemon.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the scoring daemon (SIGTERM/SIGINT: final checkpoint, commit, leave the group, exit 0)."
    )

    @Option(help: "Config file (YAML); flags and LEADSCORE_* variables override it.") var config: String?
    @Flag(help: "Print the effective configuration (secrets masked) and exit.") var printConfig = false
    @OptionGroup var options: RunOptions

    func run() async throws {
        let cfg: DaemonConfig
        do { cfg = try ConfigLoader.load(file: config, environment: ProcessInfo.processInfo.environment, overrides: options.overrides) } catch {
            stderr("leadscored: \(error)")
            throw ExitCode(1)
        }
        if printConfig { print(ConfigLoader.render(cfg), terminator: ""); return }
        LogSetup.bootstrap(level: cfg.logLevel, format: cfg.logFormat)
        let logger = Logger(label: "leadscore")
        let rules: Rules
        do { rules = try RulesLoader.load(path: cfg.rulesPath) } catch {
            stderr("\(error)")
            throw ExitCode(1)
        }
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.valueHistogramBuckets = RuntimeMetrics.histogramBuckets
        MetricsSystem.bootstrap(factory)
        let metrics = RuntimeMetrics()

        let daemon: Daemon
        do {
            daemon = try Daemon(config: cfg, rules: rules, logger: logger, metrics: metrics)
        } catch let e as DaemonError {
            logger.error("\(e)")
            if case .config = e { throw ExitCode(1) } else { throw ExitCode(2) }
        }
        let fatal = FatalFlag()
        daemon.onFatal = { msg in fatal.raise(msg) }
        logger.info("rules \(cfg.rulesPath) (rules_version \(rules.version)) validated")

        let http = Task {
            do {
                try await HTTPServer.run(host: cfg.httpHost, port: cfg.httpPort, status: daemon, registry: registry, logger: Logger(label: "leadscore.http")) { port in
                    logger.info("http listening on \(cfg.httpHost):\(port)")
                    let wildcard = ["0.0.0.0", "::", ""].contains(cfg.httpHost)
                    daemon.setAdvertisedAddress("\(wildcard ? ProcessInfo.processInfo.hostName : cfg.httpHost):\(port)")
                }
            } catch is CancellationError {
            } catch {
                logger.error("http server: \(error)")
                fatal.raise("http server failed: \(error)")
            }
        }
        do { try daemon.start() } catch {
            logger.error("cannot start: \(error)")
            http.cancel()
            throw ExitCode(2)
        }
        let reason = await FirstOf<String>.wait { done in
            SignalWaiter.onSignal { done("signal \($0)") }
            fatal.onRaise(done)
        }
        logger.info("stopping (\(reason)): final checkpoint and commit")
        await Task.detached { daemon.stop() }.value
        http.cancel()
        _ = await http.result
        if fatal.message != nil { throw ExitCode(2) }
        logger.info("stopped")
    }
}

/// A fatal condition raised from any thread.
final class FatalFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var handlers: [@Sendable (String) -> Void] = []
    private(set) var message: String?

    func raise(_ m: String) {
        lock.lock()
        guard message == nil else { lock.unlock(); return }
        message = m
        let hs = handlers; handlers = []
        lock.unlock()
        for h in hs { h(m) }
    }

    /// Calls `handler` once when raised (at once if it already was).
    func onRaise(_ handler: @escaping @Sendable (String) -> Void) {
        lock.lock()
        if let m = message { lock.unlock(); handler(m); return }
        handlers.append(handler)
        lock.unlock()
    }
}
