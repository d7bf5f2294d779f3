/// One node of the task graph: a stage applied to one scope.
public struct PlannedTask: Sendable {
    /// Index in ``TaskGraph/tasks``.
    public var id: Int
    /// Index of the stage in ``StudySpec/stages``.
    public var stageIndex: Int
    /// The stage name.
    public var stage: String
    /// The task's scope.
    public var scope: Scope
    /// Upstream task ids with their position in the stage's `from`, ordered by (from, scope).
    public var dependencies: [(fromIndex: Int, task: Int)]
    /// Source files with their content digests, sorted by name.
    public var sources: [TaskDescription.Source]
    /// Memory estimate in bytes.
    public var memory: UInt64
    /// CPU budget (the stage's `threads`, else the kind's default).
    public var threads: Int = 1
    /// The kind's work estimate (see ``StageKind/workEstimate(stage:scope:)``).
    public var work: Double = 1

    /// `stage/scope`, for messages.
    public var label: String { "\(stage) \(scope.label)" }
}
