import Foundation

/// Writes progress to stderr: redrawn in place on a terminal, plain lines otherwise.
struct ProgressLine {
    let isTTY = isatty(STDERR_FILENO) != 0

    func show(_ text: String) {
        if isTTY {
            FileHandle.standardError.write(Data("\r\u{1B}[2K\(text)".utf8))
        } else {
            stderr(text)
        }
    }

    func finish() { if isTTY { FileHandle.standardError.write(Data("\n".utf8)) } }
}
