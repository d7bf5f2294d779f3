import ArgumentParser

/// The `pipe` command: runs a resting-state fMRI seed-connectivity study from one JSON file.
public struct PipeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "pipe",
        abstract: "Run a resting-state fMRI seed-connectivity study from one JSON file.",
        subcommands: [Inspect.self, Synth.self]
    )

    public init() {}
}

extension PipeCommand {
    /// The executable's entry point: parses the arguments and runs the command, asynchronously.
    public static func runMain() async {
        await main()
    }
}
