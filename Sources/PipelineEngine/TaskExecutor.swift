/// Runs tasks somewhere: in this process on a dedicated thread (``LocalExecutor``), in a child
/// `pipe worker` process (``WorkerProcessExecutor``), or, later, as Slurm job-array elements.
/// Every executor publishes into the same cache and reports the entry's manifest.
public protocol TaskExecutor: Sendable {
    /// Executes `task` (whose description is already persisted in the cache) and returns the
    /// manifest of its cache entry. Must honour task cancellation.
    func execute(_ task: TaskDescription, attempt: Int) async throws -> Manifest

    /// Announces the tasks the scheduler has just started, together, before or after their
    /// `execute` calls arrive: an executor that submits in batches (Slurm job arrays) submits
    /// once it has all of them. Does nothing by default.
    func prepare(_ batch: [TaskDescription])

    /// Whether tasks run on the run's machine (``TaskRunner`` with `sameMachine`): then they reuse
    /// dropped files (``SpareFiles``), so that the run keeps some for them, and publish their
    /// outputs without fsync, for the run to make durable in the background
    /// (``TaskRunner/unsyncedBoot``, ``DeferredSync``). False by default.
    var runsOnThisMachine: Bool { get }
}

extension TaskExecutor {
    public func prepare(_ batch: [TaskDescription]) {}
    public var runsOnThisMachine: Bool { false }
}
