import Foundation

/// A stage kind with a typed parameter value.
///
/// ``parameters(_:)`` is the one place a kind reads its parameters and writes their defaults. The
/// engine calls it on the spec (with locations, so every problem points at its line), keeps the
/// typed value with the stage, and stores the canonical JSON (every accepted key, defaults filled
/// in) in task keys and descriptions. At run time, in this process or a `pipe worker` on another
/// node, the same function reads the canonical JSON back, so spec time and run time can never
/// disagree about a default. Kinds implement the typed requirements; the untyped ones of
/// ``StageKind`` are provided here.
public protocol TypedStageKind: StageKind {
    /// The kind's parameters, fully resolved.
    associatedtype Parameters: Sendable & Equatable

    /// Reads and checks every parameter through `reader`, with each default written here once.
    func parameters(_ reader: ParameterReader) -> Parameters

    /// Source files a task reads (see ``StageKind/sources(params:scope:)``).
    func sources(_ p: Parameters, scope: Scope) throws -> [String: String]

    /// Source files a task reads, for a kind that lists folders to find them (see
    /// ``StageKind/sources(stage:scope:directory:)``); by default ``sources(_:scope:)``.
    func sources(_ p: Parameters, scope: Scope, directory: URL) throws -> [String: String]

    /// The runs on disk of one subject and session (see ``StageKind/runsOnDisk(stage:subject:session:directory:)``).
    func runsOnDisk(_ p: Parameters, subject: String, session: String?, directory: URL) -> [String?]?

    /// A task's peak memory estimate in bytes.
    func memoryEstimate(_ p: Parameters, scope: Scope) -> UInt64

    /// A task's work estimate (see ``StageKind/workEstimate(stage:scope:)``); 1 by default.
    func workEstimate(_ p: Parameters, scope: Scope) -> Double

    /// Checks the parameters against the study's files and other stages before anything runs
    /// (labels in an atlas table, columns of the participants table, sessions of the cohort, ...),
    /// reporting through `study` with the spec's locations.
    func check(_ p: Parameters, stage: StageSpec, study: StudyCheck)

    /// Runs one task (see ``StageKind/run(_:)``).
    func run(_ p: Parameters, _ context: TaskContext) throws
}

extension TypedStageKind {
    public func sources(_ p: Parameters, scope: Scope) throws -> [String: String] { [:] }
    public func sources(_ p: Parameters, scope: Scope, directory: URL) throws -> [String: String] { try sources(p, scope: scope) }
    public func runsOnDisk(_ p: Parameters, subject: String, session: String?, directory: URL) -> [String?]? { nil }
    public func memoryEstimate(_ p: Parameters, scope: Scope) -> UInt64 { Self.defaultMemoryEstimate }
    public func workEstimate(_ p: Parameters, scope: Scope) -> Double { 1 }
    public func check(_ p: Parameters, stage: StageSpec, study: StudyCheck) {}

    /// The typed parameters of canonical JSON (as stored in a task description).
    public func decode(_ canonical: JSONValue) -> Parameters {
        parameters(ParameterReader(canonical: canonical))
    }

    /// The typed parameters of a validated stage (kept from spec time when available).
    public func typed(_ stage: StageSpec) -> Parameters {
        (stage.typedParameters as? Parameters) ?? decode(stage.params)
    }

    public func readParameters(_ reader: ParameterReader) { _ = parameters(reader) }
    public func typedParameters(_ reader: ParameterReader) -> (any Sendable)? { parameters(reader) }
    public func sources(params: JSONValue, scope: Scope) throws -> [String: String] { try sources(decode(params), scope: scope) }
    public func sources(stage: StageSpec, scope: Scope) throws -> [String: String] { try sources(typed(stage), scope: scope) }
    public func sources(stage: StageSpec, scope: Scope, directory: URL) throws -> [String: String] {
        try sources(typed(stage), scope: scope, directory: directory)
    }
    public func runsOnDisk(stage: StageSpec, subject: String, session: String?, directory: URL) -> [String?]? {
        runsOnDisk(typed(stage), subject: subject, session: session, directory: directory)
    }
    public func memoryEstimate(params: JSONValue, scope: Scope) -> UInt64 { memoryEstimate(decode(params), scope: scope) }
    public func memoryEstimate(stage: StageSpec, scope: Scope) -> UInt64 { memoryEstimate(typed(stage), scope: scope) }
    public func workEstimate(stage: StageSpec, scope: Scope) -> Double { workEstimate(typed(stage), scope: scope) }
    public func check(stage: StageSpec, study: StudyCheck) { check(typed(stage), stage: stage, study: study) }
    public func run(_ context: TaskContext) throws { try run(decode(context.params), context) }
}
