import Hummingbird
import LeadRuntime
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle

/// The daemon's HTTP surface (CONTRACTS §5): Prometheus metrics, liveness, readiness and contact queries.
public enum HTTPServer {
    /// Serves until the surrounding task is cancelled. `onListening` receives the bound port (useful with port 0).
    public static func run(host: String, port: Int, status: any DaemonStatusProvider, registry: PrometheusCollectorRegistry,
                           logger: Logger, onListening: @escaping @Sendable (Int) -> Void) async throws {
        let app = Application(
            router: makeRouter(status: status, registry: registry),
            configuration: .init(address: .hostname(host, port: port), serverName: "leadscored"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? port) },
            logger: logger
        )
        // Handlers run on Swift's cooperative pool: the daemon keeps every blocking call (librdkafka, fsync,
        // flushes) on its own threads so that /healthz and /readyz always get a thread.
        //
        // Cancellation becomes a graceful shutdown: Hummingbird treats a cancelled `run` as a failure (it logs
        // "Waiting on child channel: CancellationError()" at error level on every clean stop). So the server
        // runs in a task of its own, which the caller's cancellation does not reach, and is asked to stop.
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let serving = Task { try await group.run() }
        try await withTaskCancellationHandler {
            try await serving.value
        } onCancel: {
            Task { await group.triggerGracefulShutdown() }
        }
    }

    static func makeRouter(status: any DaemonStatusProvider, registry: PrometheusCollectorRegistry) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
        router.get("/healthz") { _, _ -> Response in text(.ok, "ok\n") }
        router.get("/readyz") { _, _ -> Response in
            let r = status.readiness()
            return text(r.ready ? .ok : .serviceUnavailable, (r.ready ? "ready: " : "not ready: ") + r.reason + "\n")
        }
        router.get("/contacts/{id}") { _, context -> Response in
            let id = percentDecoded(context.parameters.get("id") ?? "")
            switch status.lookupContact(id) {
            case .found(let json):
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: json)))
            case .unknown:
                return jsonError(.notFound, "{\"error\":\"unknown contact\"}")
            case .ownedElsewhere(let partition, let owner):
                let ownerJSON = owner.map { "\"\($0)\"" } ?? "null"
                return jsonError(.conflict, "{\"error\":\"contact's partition is owned by another instance\",\"partition\":\(partition),\"owner\":\(ownerJSON)}")
            case .notReady(let why):
                return jsonError(.serviceUnavailable, "{\"error\":\"partition not ready\",\"reason\":\(quote(why))}")
            }
        }
        return router
    }

    /// A path segment with its `%XX` escapes decoded (RFC 3986), so that ids with a space, a slash or
    /// non-ASCII letters can be asked for; the router hands the segment over as it arrived. `+` stays a plus
    /// (it means a space only in form-encoded queries). A `%` not followed by two hex digits is kept as is;
    /// bytes that are not UTF-8 after decoding are repaired (such an id cannot exist: ids are JSON strings).
    static func percentDecoded(_ segment: String) -> String {
        guard segment.utf8.contains(UInt8(ascii: "%")) else { return segment }
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x41...0x46: c - 0x41 + 10
            case 0x61...0x66: c - 0x61 + 10
            default: nil
            }
        }
        let u = Array(segment.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(u.count)
        var i = 0
        while i < u.count {
            if u[i] == UInt8(ascii: "%"), i + 2 < u.count, let h = hex(u[i + 1]), let l = hex(u[i + 2]) {
                out.append(h << 4 | l); i += 3
            } else {
                out.append(u[i]); i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func text(_ s: HTTPResponse.Status, _ body: String) -> Response {
        Response(status: s, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    private static func jsonError(_ s: HTTPResponse.Status, _ body: String) -> Response {
        Response(status: s, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: if u.value < 0x20 { out += "\\u" + String(repeating: "0", count: 4 - String(u.value, radix: 16).count) + String(u.value, radix: 16) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}
