import Foundation

/// Defaults for kinds that read any number of upstream stages, no source files, need 64 MiB per
/// task, count as one unit of work, have no typed parameters or plan-time checks, and whose
/// `keep: false` entries drop every output, which their readers read all of.
extension StageKind {
    public var upstreamCount: ClosedRange<Int> { 0...Int.max }
    public func sources(params: JSONValue, scope: Scope) throws -> [String: String] { [:] }
    public func memoryEstimate(params: JSONValue, scope: Scope) -> UInt64 { Self.defaultMemoryEstimate }
    /// A task's memory estimate when its kind gives none: 64 MiB.
    public static var defaultMemoryEstimate: UInt64 { 64 << 20 }
    public func typedParameters(_ params: ParameterReader) -> (any Sendable)? { readParameters(params); return nil }
    public func check(stage: StageSpec, study: StudyCheck) {}
    public func sources(stage: StageSpec, scope: Scope) throws -> [String: String] { try sources(params: stage.params, scope: scope) }
    public func sources(stage: StageSpec, scope: Scope, directory: URL) throws -> [String: String] { try sources(stage: stage, scope: scope) }
    public func sourceParameter(_ name: String) -> String? { name }
    public func memoryEstimate(stage: StageSpec, scope: Scope) -> UInt64 { memoryEstimate(params: stage.params, scope: scope) }
    public func workEstimate(stage: StageSpec, scope: Scope) -> Double { 1 }
    public func runsOnDisk(stage: StageSpec, subject: String, session: String?, directory: URL) -> [String?]? { nil }
    public func methods(stage: StageSpec) -> MethodsText? { nil }
    public var readsStudyRecord: Bool { false }
    public var defaultThreads: Int { 1 }
    public func dropsOutput(named name: String) -> Bool { true }
    public func readsInput(named name: String) -> Bool { true }

    /// Whether a task of this kind reads any of `names` (the files a `keep: false` entry dropped):
    /// then the entry must be recomputed for it.
    public func readsAny(of names: Set<String>) -> Bool { names.contains(where: readsInput(named:)) }

    /// The names among an entry's `outputs` that `keep: false` drops (``dropsOutput(named:)``).
    public func droppedOutputs(_ outputs: [OutputFile]) -> Set<String> { Set(outputs.map(\.name).filter(dropsOutput(named:))) }
}
