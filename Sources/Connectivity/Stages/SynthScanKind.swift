import Foundation
import PipelineEngine

/// Stage kind `synth`: generates one scan of the synthetic cohort per task, laid out as the files
/// fMRIPrep would give for it. With `synth_cohort`, a study builds its own input data into the
/// cache, so the demo needs nothing on disk.
///
/// Parameters: `scale` (`demo` | `full`, default demo), `seed` (default 1), `null` (default false).
/// Outputs, with fMRIPrep's names: `<prefix>_space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz` and
/// `.json`, `..._desc-brain_mask.nii.gz`, `<prefix>_desc-confounds_timeseries.tsv`.
/// Each scan is generated from (seed, subject, session, run) alone, so a task's output, like its
/// key, does not depend on the rest of the cohort. The runs of a session (`cohort.runs`) share the
/// subject's planted couplings and motion profile, with their own noise and motion.
public struct SynthScanKind: TypedStageKind {
    public typealias Parameters = SynthParameters
    public init() {}

    public var name: String { "synth" }
    /// 4: the runs of a session get their own noise and motion (before, every run was a copy of
    /// the session's scan; a scan without a run is unchanged). 3: head motion varies by subject and
    /// session, with a spin-history term and two planted high-motion scans. 2: band-limited region signals, stronger planted effects.
    public var version: Int { 4 }
    public var fanOut: FanOut { .perScan }
    public var upstreamCount: ClosedRange<Int> { 0...0 }

    public func parameters(_ params: ParameterReader) -> SynthParameters { SynthParameters.read(params) }

    public func memoryEstimate(_ p: SynthParameters, scope: Scope) -> UInt64 {
        p.scale == .demo ? 200 << 20 : 2 << 30
    }

    public func run(_ p: SynthParameters, _ context: TaskContext) throws {
        guard case .scan(let subject, let session, let run) = context.scope, let session else {
            throw SynthError(message: "synth needs scans with sessions (baseline, day13); got \(context.scope.label)")
        }
        let out = context.outputDirectory
        let prefix = BIDSNames.prefix(context.scope, task: "rest"), space = SynthDataset.space
        func path(_ name: String) -> String { out.appendingPathComponent(name).path }
        try SynthDataset.writeScan(
            subject: "sub-" + subject, session: session, run: run, options: p.options,
            names: .init(bold: path("\(prefix)_space-\(space)_desc-preproc_bold.nii.gz"),
                         sidecar: path("\(prefix)_space-\(space)_desc-preproc_bold.json"),
                         mask: path("\(prefix)_space-\(space)_desc-brain_mask.nii.gz"),
                         confounds: path("\(prefix)_desc-confounds_timeseries.tsv")))
    }
}

/// Stage kind `synth_cohort`: the cohort-level files of the synthetic study, for all 49 subjects:
/// `participants.tsv`, `participants.json`, `synth_truth.tsv`, `atlas.nii.gz`, `atlas.tsv`.
/// Same parameters as `synth`.
public struct SynthCohortKind: TypedStageKind {
    public typealias Parameters = SynthParameters
    public init() {}

    public var name: String { "synth_cohort" }
    /// 5: synth_truth.tsv gains each scan's motion level and bursts (the cohort of `synth`
    /// version 3). 4: participants.json written through `OutputJSON` (typed `BIDSColumn`s): keys sort by
    /// their bytes, so `PlantedEffects` comes first; the content is unchanged. 3: participants.json
    /// writes '/' unescaped. 2: the cohort of `synth` version 2.
    public var version: Int { 5 }
    public var fanOut: FanOut { .group }
    public var upstreamCount: ClosedRange<Int> { 0...0 }

    public func parameters(_ params: ParameterReader) -> SynthParameters { SynthParameters.read(params) }

    public func run(_ p: SynthParameters, _ context: TaskContext) throws {
        let out = context.outputDirectory
        try SynthDataset.writeCohortFiles(
            options: p.options,
            participantsTSV: out.appendingPathComponent("participants.tsv").path,
            participantsJSON: out.appendingPathComponent("participants.json").path,
            truthTSV: out.appendingPathComponent("synth_truth.tsv").path,
            atlas: out.appendingPathComponent("atlas.nii.gz").path,
            atlasLabels: out.appendingPathComponent("atlas.tsv").path)
    }
}

/// The parameters shared by `synth` and `synth_cohort`: the grid scale (`demo` or `full`), the
/// random seed (1), and `null` (false: no planted effect).
public struct SynthParameters: Sendable, Equatable {
    public var scale: SynthGrid.Scale
    public var seed: UInt64
    public var null: Bool

    static func read(_ params: ParameterReader) -> SynthParameters {
        let scale = params.string("scale", default: "demo")
        if SynthGrid.Scale(rawValue: scale) == nil {
            params.report("scale", "expected \"demo\" or \"full\", got \"\(scale)\"")
        }
        let seed = params.integer("seed", default: 1, range: 0...Int(Int32.max))
        return SynthParameters(scale: SynthGrid.Scale(rawValue: scale) ?? .demo, seed: UInt64(max(0, seed)),
                               null: params.bool("null", default: false))
    }

    var options: SynthDataset.Options { SynthDataset.Options(scale: scale, seed: seed, null: null) }

    /// The cohort's participants table as the `synth_cohort` stage will write it (for plan-time checks).
    var participantsTSV: String {
        let cohort = SynthCohort(seed: seed, null: null)
        return cohort.participantsTSV(cohort.participants)
    }
}
