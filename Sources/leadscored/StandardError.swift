import Foundation

/// Writes one line to standard error: the commands' messages for people, apart from their output on stdout.
func stderr(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
