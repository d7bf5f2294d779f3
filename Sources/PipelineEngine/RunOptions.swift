import Foundation

/// How to run: concurrency, memory budget, failure policy, executor.
public struct RunOptions: Sendable {
    /// Maximum concurrent tasks (default: active cores).
    public var jobs: Int = ProcessInfo.processInfo.activeProcessorCount
    /// Threads for the sum of running tasks' `threads` (`--cores`; default: twice the active
    /// cores, since a task rarely keeps all its threads busy: reading, writing and hashing are
    /// serial). A task asking for more runs alone.
    public var cores: Int = 2 * ProcessInfo.processInfo.activeProcessorCount
    /// The most threads one task gets here (default: the active cores).
    public var threadsPerTask: Int = ProcessInfo.processInfo.activeProcessorCount
    /// Memory budget in bytes for the sum of running tasks' estimates (default 75% of RAM).
    /// A task whose estimate exceeds the budget runs alone.
    public var memoryBudget: UInt64 = ProcessInfo.processInfo.physicalMemory / 4 * 3
    /// Run every task whose inputs are ready after a failure.
    public var keepGoing = false
    /// Extra attempts for a failed task.
    public var retries = 0
    /// Publish outputs into the study's output folder.
    public var publishOutputs = true

    public init() {}
}
