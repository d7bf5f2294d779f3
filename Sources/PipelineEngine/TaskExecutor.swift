/// Runs tasks somewhere: in this process on a dedicated thread (``LocalExecutor``), in a child
/// `pipe worker` process (``WorkerProcessExecutor``), or, later, as Slurm job-array elements.
/// Every executor publishes into the same cache and reports the entry's manifest.
public protocol TaskExecutor: Sendable {
    /// Executes `task` (whose description is already persisted in the cache) and returns the
    /// manifest of its cache entry. Must honour task cancellation.
    func execute(_ task: TaskDescription, attempt: Int) async throws -> Manifest
}
