import ArgumentParser
import Foundation
import PipelineEngine

/// The `pipe` command: runs resting-state fMRI studies described in one JSON file.
///
/// Stage kinds are injected: set ``PipeCommand/registry`` before calling ``PipeCommand/launch(_:)``.
public struct PipeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "pipe",
        abstract: "Run a resting-state fMRI seed-connectivity study from one JSON file, resumably, with a content-addressed cache.",
        discussion: """
        Exit codes: 0 ok, 1 task failure, 2 invalid spec or usage, 3 cache lock held, 130 interrupted.
        """,
        version: EngineVersion.string,
        subcommands: [Run.self, Plan.self, Validate.self, Graph.self, Status.self, Cache.self, Worker.self, Inspect.self, Synth.self]
    )

    public init() {}

    private static let registryBox = Locked(StageRegistry())

    /// The stage kinds this binary knows. Set it before ``launch(_:)``: the `pipe` binary registers the
    /// neuroimaging kinds, the test tool registers test kinds.
    public static var registry: StageRegistry {
        get { registryBox.current }
        set { registryBox.withLock { $0 = newValue } }
    }

    /// Parses the command line, runs the command, and exits with pipe's exit codes:
    /// 0 ok, 1 task failure, 2 invalid spec or usage, 3 lock held, 130 interrupted.
    ///
    /// Use this instead of ArgumentParser's `main()`, which exits 64 on usage errors.
    /// - Parameter arguments: the arguments without the program name (default: the process's).
    public static func launch(_ arguments: [String]? = nil) async -> Never {
        // A write past a file-size limit (ulimit -f) fails with EFBIG and a clear error, instead
        // of the default SIGXFSZ, which would kill the process mid-write.
        signal(SIGXFSZ, SIG_IGN)
        let code: Int32
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            code = 0
        } catch let error as PipeError {
            ErrorReporting.print(error)
            code = ErrorReporting.exitCode(for: error)
        } catch let exit as ExitCode {
            code = exit.rawValue
        } catch {
            let message = fullMessage(for: error)
            if exitCode(for: error) == .success {
                if !message.isEmpty { print(message) }
                code = 0
            } else {
                ErrorReporting.printLine(message)
                code = 2
            }
        }

        Foundation.exit(code)
    }

    /// The executable's entry point (same as ``launch(_:)``).
    public static func runMain() async {
        await launch()
    }
}
