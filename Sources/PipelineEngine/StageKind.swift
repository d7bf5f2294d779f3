import Foundation

/// A kind of stage: what one task of a stage does. The engine knows kinds only through this protocol;
/// domain modules (and tests) register concrete kinds in a ``StageRegistry``.
///
/// A kind must be deterministic: the same parameters, scope and input bytes give the same output
/// bytes. Bump ``version`` whenever the implementation's output may change: the version is part of
/// every task key, so stale results are never served after a code change.
public protocol StageKind: Sendable {
    /// The name used in specs (`"kind": "..."`).
    var name: String { get }
    /// The implementation version, hashed into task keys.
    var version: Int { get }
    /// How the stage expands over the cohort.
    var fanOut: FanOut { get }
    /// How many upstream stages (`"from"`) the kind accepts.
    var upstreamCount: ClosedRange<Int> { get }

    /// Reads and validates parameters through `params` (which reports problems with locations).
    func readParameters(_ params: ParameterReader)

    /// Reads the parameters and returns their typed value, kept with the stage (see
    /// ``TypedStageKind``); `nil` for a kind without one.
    func typedParameters(_ params: ParameterReader) -> (any Sendable)?

    /// Checks a validated stage against the study's files and other stages before any task runs.
    func check(stage: StageSpec, study: StudyCheck)

    /// Source files (outside the cache) that a task reads, by name, as paths relative to the spec's
    /// folder. Their content digests (never their paths) go into the task key.
    /// - Throws: a message (``PipeError``) if the scope cannot be served.
    func sources(params: JSONValue, scope: Scope) throws -> [String: String]

    /// ``sources(params:scope:)`` for a validated stage (its typed parameters at hand).
    func sources(stage: StageSpec, scope: Scope) throws -> [String: String]

    /// The spec key, as a path inside the stage (`atlas`, `seeds[0].mask`), from which the source
    /// file `name` (a key of ``sources(params:scope:)``) comes, if the spec names it; a problem with
    /// the file is reported there. By default a source named as a key of the stage's is that key's.
    func sourceParameter(_ name: String) -> String?

    /// ``sources(stage:scope:)`` for a kind that finds its files by listing folders, or reads the
    /// list from a file the spec names (a table of map files): `directory` is the spec's folder,
    /// against which relative paths resolve. The engine calls this one; by default it is
    /// ``sources(stage:scope:)``.
    func sources(stage: StageSpec, scope: Scope, directory: URL) throws -> [String: String]

    /// The runs that exist on disk for one subject and session (a nil element: a file without a
    /// run entity), for a study whose cohort lists no runs; nil when the kind does not find runs
    /// (the default). The engine then expands the stage's per-scan tasks over these runs.
    /// - Parameters:
    ///   - directory: the spec's folder, against which relative paths resolve.
    func runsOnDisk(stage: StageSpec, subject: String, session: String?, directory: URL) -> [String?]?

    /// An estimate of a task's peak memory in bytes, used by the scheduler's memory budget.
    func memoryEstimate(params: JSONValue, scope: Scope) -> UInt64

    /// What the stage did, in a sentence or a few, for the study's generated `methods.md`, with
    /// the references it cites; nil for a kind that has nothing to say.
    func methods(stage: StageSpec) -> MethodsText?

    /// ``memoryEstimate(params:scope:)`` for a validated stage.
    func memoryEstimate(stage: StageSpec, scope: Scope) -> UInt64

    /// A rough estimate of one task's work, in units of about one scan's cleaning; 1 by default.
    /// The scheduler only compares it between tasks: of the ready tasks, it starts first the one
    /// with the most estimated work on its path to the end of the run (see ``TaskGraph/startOrder``),
    /// so a long task does not start last and run alone.
    func workEstimate(stage: StageSpec, scope: Scope) -> Double

    /// The CPUs one task uses unless the stage sets `threads`: the thread budget its kernels get,
    /// the cores the local scheduler reserves for it, and its `--cpus-per-task` on Slurm. 1 by
    /// default.
    var defaultThreads: Int { get }

    /// Whether the kind's tasks read the study's record (``Provenance/studyRecord(_:)``: the spec's
    /// name and digest, the overrides, the methods text) under the parameter `study`. The record
    /// is then part of their key: editing the spec reruns them. False by default.
    var readsStudyRecord: Bool { get }

    /// Whether `keep: false` drops this output of an entry once every task that reads the entry is
    /// done. By default every output; a kind whose readers often need only its small outputs
    /// keeps those (`clean` drops its series, and keeps its record, mask and mean image).
    func dropsOutput(named name: String) -> Bool

    /// Whether a task of this kind reads an upstream output of this name. A task that must run is
    /// handed an upstream entry whose data was dropped (`keep: false`) as it is, without
    /// recomputing it, when it reads none of the dropped files. By default every output.
    func readsInput(named name: String) -> Bool

    /// Runs one task: read inputs and sources through `context`, write outputs into
    /// `context.outputDirectory`. Runs on a dedicated thread; may block.
    func run(_ context: TaskContext) throws
}
