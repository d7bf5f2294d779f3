import Foundation

/// Runs each task body on its own thread, so CPU-heavy or blocking kinds never occupy the Swift
/// concurrency cooperative pool; the awaiting child task is resumed through a continuation.
/// Cancellation of the awaiting task sets the body's ``CancellationFlag``.
public struct LocalExecutor: TaskExecutor {
    let runner: TaskRunner
    /// Stack size of task threads (bytes).
    public var stackSize = 8 << 20

    public init(cache: CacheStore, registry: StageRegistry) {
        runner = TaskRunner(cache: cache, registry: registry)
    }

    public func execute(_ task: TaskDescription, attempt: Int) async throws -> Manifest {
        let flag = CancellationFlag()
        let runner = self.runner
        let stack = stackSize
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Manifest, Error>) in
                let thread = Thread {
                    c.resume(with: Result { try runner.execute(task, attempt: attempt, cancellation: flag) })
                }
                thread.stackSize = stack
                thread.name = "pipe-task"
                thread.start()
            }
        } onCancel: {
            flag.cancel()
        }
    }
}
