/// What `pipe plan` (and the start of `pipe run`) decides for one task, and why.
public struct TaskPlan: Sendable {
    /// The decision.
    public enum Status: String, Sendable {
        /// A complete cache entry exists for the task's key.
        case cached
        /// The key is known and has no entry: the task will run.
        case run
        /// An upstream task will run first; the key is known only then (it may still be cached then:
        /// early cutoff).
        case pending
    }

    /// The task id in the graph.
    public var task: Int
    /// The decision.
    public var status: Status
    /// The task key, when known.
    public var key: String?
    /// Why the task will run (empty when cached).
    public var reasons: [String]
    /// The cached entry's outputs (empty unless cached).
    public var outputs: [OutputFile] = []
    /// The names of the cached entry's outputs whose data was dropped (`keep: false`); its record
    /// serves.
    public var droppedOutputs: Set<String> = []
    /// Whether some of the cached entry's data was dropped.
    public var dropped: Bool { !droppedOutputs.isEmpty }
}
