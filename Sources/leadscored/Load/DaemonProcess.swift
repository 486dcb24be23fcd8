import Foundation

/// A `leadscored run` child process started by `bench` and `demo`, with its log in a file.
final class DaemonProcess: @unchecked Sendable {
    let process = Process()
    let logPath: String

    /// Starts this same executable with `run` and the given arguments.
    init(arguments: [String], logPath: String) throws {
        self.logPath = logPath
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.executableURL = URL(fileURLWithPath: DaemonProcess.selfExecutable)
        process.arguments = ["run"] + arguments
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    /// Path of the running `leadscored` binary.
    static var selfExecutable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    var isRunning: Bool { process.isRunning }

    /// SIGTERM, then SIGKILL after `graceSeconds`. Returns the exit status.
    @discardableResult
    func stop(graceSeconds: Double = 15) -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(graceSeconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        return process.terminationStatus
    }

    /// Waits until the daemon's log shows `needle` (e.g. its partition assignment). False on timeout or exit.
    func waitForLog(_ needle: String, timeoutSeconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline && process.isRunning {
            if let text = try? String(contentsOfFile: logPath, encoding: .utf8), text.contains(needle) { return true }
            usleep(50_000)
        }
        return false
    }

    /// The last lines of the daemon's log, for error messages.
    func logTail(_ lines: Int = 20) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }
}
