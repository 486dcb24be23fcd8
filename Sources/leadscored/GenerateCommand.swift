import ArgumentParser
import Foundation
import LeadSim

/// `leadscored generate`: the bench's synthetic stream as JSON lines, for `replay`, kcat or your own tests.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a realistic synthetic Segment event stream (JSON lines) to stdout."
    )

    @Option(help: "Number of events.") var events: Int = 1000
    @Option(help: "Distinct contacts (Zipf-distributed).") var contacts: Int = 200
    @Option(help: "Seed (same seed, same bytes).") var seed: UInt64 = 1
    @Option(help: "Seconds of event time between events.") var step: Int = 20
    @Flag(help: "Prefix each line with the key (contact id) and a tab, for `kcat -K '\\t'`.") var keyed = false

    func run() throws {
        var g = TrafficGenerator(seed: seed, contacts: contacts, step: Int64(step) * 1_000_000)
        var out = [UInt8]()
        out.reserveCapacity(1 << 20)
        for _ in 0..<events {
            let e = g.next()
            if keyed { out += Array(e.contactId.utf8); out.append(9) }
            out += e.json
            out.append(10)
            if out.count > 1 << 20 { FileHandle.standardOutput.write(Data(out)); out.removeAll(keepingCapacity: true) }
        }
        FileHandle.standardOutput.write(Data(out))
    }
}
