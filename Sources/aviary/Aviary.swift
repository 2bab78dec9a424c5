import ArgumentParser

@main
struct Aviary: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aviary",
        abstract: "A coordination service that speaks Apache ZooKeeper's protocol.",
        subcommands: [ServerCommand.self, DataCommand.self, StatusCommand.self, MemberCommand.self, LeaderCommand.self, RollingRestartCommand.self, ConfigCommand.self, BenchCommand.self, ElectionCommand.self, ObserveCommand.self]
    )
}
