import ArgumentParser
import Foundation
import PipelineEngine

extension PipeCommand {
    /// `pipe worker`: execute one task given only the cache and its key (used by process and
    /// Slurm executors). Exit 0 when the entry is published, 1 when the task fails, 130 when
    /// interrupted (SIGINT/SIGTERM, or the `--parent` run ended).
    struct Worker: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Execute one planned task from the cache (for cluster executors).")

        @Option(help: "The cache folder.")
        var cache: String

        @Option(help: "Attempt number (for the log).")
        var attempt: Int = 1

        @Option(help: "The pid of the run that started this worker: when it ends, the worker is stopped as by SIGTERM.")
        var parent: Int32?

        @Flag(help: "The run and every task reading this one's outputs are on this machine: the outputs are published without fsync, and the run makes them durable (never for Slurm jobs).")
        var sameMachine = false

        @Argument(help: "The task key.")
        var key: String

        func run() async throws {
            let store = CacheStore(root: URL(fileURLWithPath: cache))
            let description = try store.readDescription(key)
            let flag = CancellationFlag()
            let trap = SignalTrap(secondSignalExits: false) { flag.cancel() }
            defer { trap.cancel() }
            if let parent { try Self.stopWithParent(parent) }
            let runner = TaskRunner(cache: store, registry: PipeCommand.registry, aloneInProcess: true, sameMachine: sameMachine)
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

        /// Asks for SIGTERM when the parent ends (Linux `PR_SET_PDEATHSIG`), then checks that the
        /// parent is still `parent`: a run that died before the request was made is not signalled.
        ///
        /// The "parent" of `PR_SET_PDEATHSIG` is the thread that started this process, so the run
        /// must start workers from a thread that lives as long as it does (see
        /// ``WorkerProcessExecutor``).
        /// - Throws: ``PipeError`` `.interrupted` when the parent has already ended.
        static func stopWithParent(_ parent: Int32) throws {
            #if os(Linux)
            // prctl is variadic in <sys/prctl.h>, so Swift does not import it; all its arguments
            // are words, which the non-variadic x86-64 and arm64 Linux conventions pass the same way.
            typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
            if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "prctl") {
                let prctl = unsafeBitCast(symbol, to: Prctl.self)
                _ = prctl(1 /* PR_SET_PDEATHSIG */, UInt(SIGTERM), 0, 0, 0)
            }
            #endif
            guard getppid() == parent else {
                throw PipeError(.interrupted, "the run that started this worker (pid \(parent)) has ended")
            }
        }
    }
}
