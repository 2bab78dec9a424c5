import ArgumentParser
import Configuration
import Foundation

/// `aviary config`: a server's configuration, without running it.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check a zoo.cfg without starting a server.",
        subcommands: [Check.self])

    /// `aviary config check zoo.cfg`: every problem with its file and line, the warnings the
    /// server would log, and a verdict; exits 1 when there is a problem (for scripts and CI).
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a zoo.cfg (and its dynamic file and myid) as the server reads them; exit 1 on any problem.")

        @Argument(help: "A ZooKeeper zoo.cfg file.")
        var file: String

        func run() throws {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                print("\(file): cannot read the file")
                throw ExitCode(1)
            }
            let check = ConfigurationCheck(text, file: file)
            print(check.report, terminator: "")
            if !check.problems.isEmpty { throw ExitCode(1) }
        }
    }
}
