import ArgumentParser
import Foundation
import PipelineEngine

extension PipeCommand {
    /// `pipe worker`: execute one task given only the cache and its key (used by process and
    /// Slurm executors). Exit 0 when the entry is published, 1 when the task fails.
    struct Worker: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Execute one planned task from the cache (for cluster executors).")

        @Option(help: "The cache folder.")
        var cache: String

        @Option(help: "Attempt number (for the log).")
        var attempt: Int = 1

        @Argument(help: "The task key.")
        var key: String

        func run() async throws {
            let store = CacheStore(root: URL(fileURLWithPath: cache))
            let description = try store.readDescription(key)
            let flag = CancellationFlag()
            let trap = SignalTrap(secondSignalExits: false) { flag.cancel() }
            defer { trap.cancel() }
            let runner = TaskRunner(cache: store, registry: PipeCommand.registry)
            let attempt = self.attempt
            _ = try await withCheckedThrowingContinuation { (c: CheckedContinuation<Manifest, Error>) in
                do {
                    try TaskThread.start(name: "pipe-task") {
                        c.resume(with: Result { try runner.execute(description, attempt: attempt, cancellation: flag) })
                    }
                } catch {
                    c.resume(throwing: error)
                }
            }
        }
    }
}
