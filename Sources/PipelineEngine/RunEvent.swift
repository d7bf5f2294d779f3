/// What happens during a run, in order. Observers (journal, progress display) receive every event
/// from the scheduler's single control loop.
public enum RunEvent: Sendable {
    /// The run began: id, per-stage task counts (in stage order).
    case runStarted(runID: String, stages: [(name: String, tasks: Int)])
    /// A stale lock from a killed run was taken over.
    case lockTakenOver(LockHolder)
    /// The plan's decision for a task before anything runs.
    case planned(stage: String, scope: Scope, status: TaskPlan.Status, key: String?, reasons: [String])
    /// A task's result was found in the cache.
    case cached(stage: String, scope: Scope, key: String)
    /// A task started (attempt ≥ 1).
    case started(stage: String, scope: Scope, key: String, attempt: Int)
    /// A task finished and its entry was published; `peakRSS` is that of the process it ran in,
    /// `cpuSeconds` the task's CPU time where it ran alone in a process (worker, Slurm).
    case finished(stage: String, scope: Scope, key: String, seconds: Double, peakRSS: UInt64, cpuSeconds: Double?)
    /// A task failed; `willRetry` when another attempt follows.
    case failed(stage: String, scope: Scope, key: String, error: String, log: String, attempt: Int, willRetry: Bool)
    /// A cluster job was submitted for a task (`job`: `<array id>_<index>`), with its resources;
    /// `resubmission` counts the executor's own resubmissions after an out-of-memory, time-limit
    /// or node failure (0 for the first).
    case submitted(stage: String, scope: Scope, key: String, job: String, cpus: Int, memoryMiB: Int, minutes: Int, attempt: Int, resubmission: Int)
    /// A run found a task's job, submitted by an earlier run, still queued or running, and waits
    /// for it instead of submitting another.
    case attached(stage: String, scope: Scope, key: String, job: String)
    /// A task's cluster job ended: its state (`COMPLETED`, `FAILED`, `OUT_OF_MEMORY`, `TIMEOUT`,
    /// `NODE_FAIL`, ...) and what the executor did about it.
    case jobEnded(stage: String, scope: Scope, key: String, job: String, state: String, action: String)
    /// The data of a `keep: false` entry was dropped, every task that reads it being done.
    case dropped(stage: String, scope: Scope, key: String, bytes: Int64)
    /// A task was not run because an upstream task failed.
    case skipped(stage: String, scope: Scope, reason: String)
    /// Something a person should know that does not fail the run (a damaged cache entry that
    /// will be recomputed, say).
    case warning(String)
    /// The run ended.
    case runFinished(RunSummary)

    /// The event's name in journals and `--json` output.
    public var name: String {
        switch self {
        case .runStarted: return "run-started"
        case .lockTakenOver: return "lock-taken-over"
        case .planned: return "planned"
        case .cached: return "cached"
        case .started: return "started"
        case .finished: return "finished"
        case .failed: return "failed"
        case .submitted: return "submitted"
        case .attached: return "attached"
        case .jobEnded: return "job-ended"
        case .dropped: return "dropped"
        case .skipped: return "skipped"
        case .warning: return "warning"
        case .runFinished: return "run-finished"
        }
    }
}
