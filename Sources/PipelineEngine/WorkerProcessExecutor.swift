import Foundation

/// Runs each task in a child process, `<executable> worker --cache <dir> --parent <pid> <key>`, as a
/// Slurm job-array element would; the child's exit status and the cache entry it publishes are the
/// result. Cancellation sends SIGTERM to the child, and so does the end of this process, however it
/// ends (even SIGKILL): `--parent` makes the worker ask Linux for a parent-death signal.
public struct WorkerProcessExecutor: TaskExecutor {
    let cache: CacheStore
    let executable: URL

    /// - Parameter executable: the `pipe` binary (or any binary with the same `worker` subcommand).
    public init(cache: CacheStore, executable: URL) {
        self.cache = cache
        self.executable = executable
    }

    /// Tasks run on this machine: they reuse dropped files and publish without fsync.
    public var runsOnThisMachine: Bool { true }

    public func execute(_ task: TaskDescription, attempt: Int) async throws -> Manifest {
        let process = Process()
        process.executableURL = executable
        process.arguments = ["worker", "--cache", cache.root.path, "--attempt", String(attempt),
                             "--parent", String(getpid()), "--same-machine", task.key]
        process.standardOutput = FileHandle.nullDevice
        let errPipe = Pipe()
        process.standardError = errPipe
        let box = Locked<Process?>(process)
        let status: Int32 = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Int32, Error>) in
                process.terminationHandler = { p in c.resume(returning: p.terminationStatus) }
                let executable = self.executable
                Launcher.launch(process) { error in
                    process.terminationHandler = nil
                    c.resume(throwing: error as? PipeError ?? PipeError(.io, "cannot start \(executable.path): \(error)"))
                }
            }
        } onCancel: {
            box.withLock { p in if let p, p.isRunning { p.terminate() } }
        }
        let stderr = String(decoding: errPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        if Task.isCancelled { throw PipeError(.interrupted, "cancelled") }
        guard status == 0, let m = cache.completeEntry(for: task.key) else {
            throw PipeError(.taskFailed, stderr.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
                            ? "worker exited with status \(status)" : stderr.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return m
    }
}

extension WorkerProcessExecutor {
    /// Starts worker processes from one thread that lives as long as this process.
    ///
    /// Linux sends a worker its parent-death signal when the *thread* that started it ends, and the
    /// threads of the Swift concurrency pool end when idle; starting workers from them would stop
    /// long tasks at random.
    final class Launcher: Sendable {
        private let queue = Locked<[@Sendable () -> Void]>([])
        private let wake = DispatchSemaphore(value: 0)

        private static let shared = Result<Launcher, PipeError> { () throws(PipeError) in try Launcher() }

        private init() throws(PipeError) {
            let queue = self.queue, wake = self.wake
            try TaskThread.start(name: "pipe-launcher", stackSize: 1 << 20) {
                while true {
                    wake.wait()
                    let jobs = queue.withLock { q in defer { q.removeAll() }; return q }
                    for job in jobs { job() }
                }
            }
        }

        /// Runs `process` on the launcher thread; `failed` gets the error if it cannot start.
        static func launch(_ process: Process, failed: @escaping @Sendable (any Error) -> Void) {
            let box = UnsafeProcess(process)
            switch shared {
            case .failure(let e):
                failed(e)
            case .success(let launcher):
                launcher.queue.withLock { $0.append { do { try box.process.run() } catch { failed(error) } } }
                launcher.wake.signal()
            }
        }
    }

    /// A `Process` handed to the launcher thread, which only starts it.
    private struct UnsafeProcess: @unchecked Sendable {
        let process: Process
        init(_ process: Process) { self.process = process }
    }
}
