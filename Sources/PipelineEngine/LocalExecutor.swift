import Foundation

/// Runs each task body on its own thread, so CPU-heavy or blocking kinds never occupy the Swift
/// concurrency cooperative pool; the awaiting child task is resumed through a continuation.
/// Cancellation of the awaiting task sets the body's ``CancellationFlag``. A thread that cannot be
/// created fails the task with "cannot start 1 thread: …" (see ``TaskThread``) instead of waiting.
public struct LocalExecutor: TaskExecutor {
    let runner: TaskRunner
    /// Stack size of task threads (bytes).
    public var stackSize = TaskThread.defaultStackSize

    /// - Parameter cores: the most threads any one task gets (the run's `--cores`).
    public init(cache: CacheStore, registry: StageRegistry, cores: Int = ProcessInfo.processInfo.activeProcessorCount) {
        runner = TaskRunner(cache: cache, registry: registry, maxThreads: cores, sameMachine: true)
    }

    /// Tasks run on this machine: they reuse dropped files and publish without fsync.
    public var runsOnThisMachine: Bool { true }

    public func execute(_ task: TaskDescription, attempt: Int) async throws -> Manifest {
        let flag = CancellationFlag()
        let runner = self.runner
        let stack = stackSize
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Manifest, Error>) in
                do {
                    try TaskThread.start(name: "pipe-task", stackSize: stack) {
                        c.resume(with: Result { try runner.execute(task, attempt: attempt, cancellation: flag) })
                    }
                } catch {
                    c.resume(throwing: error)
                }
            }
        } onCancel: {
            flag.cancel()
        }
    }
}
