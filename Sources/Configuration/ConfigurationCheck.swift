import Foundation

/// Every problem a zoo.cfg has, for `aviary config check`: where the server stops at the first
/// (``ZooConfigParser/parse(_:file:readFile:)``), a check reads on past each bad line.
public struct ConfigurationCheck: Sendable {
    /// The errors, each with its file and line (line 0: a problem of the whole file).
    public var problems: [ConfigurationError] = []
    public var warnings: [String] = []
    /// The configuration read, when there was no problem.
    public var configuration: ServerConfiguration?

    /// Checks `text` (the file `file`) without starting anything: each error's line is set
    /// aside and the text read again, so that one run names every bad line. A problem that
    /// names no line of this file (the myid file, the whole ensemble) ends the check.
    public init(_ text: String, file: String = "zoo.cfg",
                readFile: (String) -> String? = { try? String(contentsOfFile: $0, encoding: .utf8) }) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var setAside: Set<Int> = []
        while true {
            do {
                let (configuration, warnings) = try ZooConfigParser.parse(lines.joined(separator: "\n"), file: file, readFile: readFile)
                self.warnings = warnings
                if problems.isEmpty { self.configuration = configuration }
                return
            } catch {
                problems.append(error)
                let index = error.line - 1
                guard error.file == file, lines.indices.contains(index), !setAside.contains(index) else { return }
                setAside.insert(index)
                lines[index] = "# " + lines[index]
            }
        }
    }

    /// One line per problem and warning, then a verdict.
    public var report: String {
        var out = problems.map { "\($0)\n" }.joined() + warnings.map { "warning: \($0)\n" }.joined()
        if let configuration {
            let kind = configuration.isDistributed
                ? "an ensemble member (server.\(configuration.myid.map(String.init) ?? "?") of \(configuration.voters.count) voters, \(configuration.observers.count) observers)"
                : "a standalone server on port \(configuration.clientPort)"
            out += "OK: \(kind)\n"
        } else {
            out += "\(problems.count) problem\(problems.count == 1 ? "" : "s")\n"
        }
        return out
    }
}
