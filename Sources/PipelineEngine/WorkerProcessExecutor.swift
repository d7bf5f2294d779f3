import Foundation

/// Runs each task in a child process, `<executable> worker --cache <dir> <key>`, exactly as a Slurm
/// job-array element would; the child's exit status and the cache entry it publishes are the result.
/// Cancellation sends SIGTERM to the child.
public struct WorkerProcessExecutor: TaskExecutor {
    let cache: CacheStore
    let executable: URL

    /// - Parameter executable: the `pipe` binary (or any binary with the same `worker` subcommand).
    public init(cache: CacheStore, executable: URL) {
        self.cache = cache
        self.executable = executable
    }

    public func execute(_ task: TaskDescription, attempt: Int) async throws -> Manifest {
        let process = Process()
        process.executableURL = executable
        process.arguments = ["worker", "--cache", cache.root.path, "--attempt", String(attempt), task.key]
        process.standardOutput = FileHandle.nullDevice
        let errPipe = Pipe()
        process.standardError = errPipe
        let box = Locked<Process?>(process)
        let status: Int32 = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Int32, Error>) in
                process.terminationHandler = { p in c.resume(returning: p.terminationStatus) }
                do { try process.run() } catch {
                    process.terminationHandler = nil
                    c.resume(throwing: PipeError(.io, "cannot start \(executable.path): \(error)"))
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
