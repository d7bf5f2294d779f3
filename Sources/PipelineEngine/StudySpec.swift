import Foundation

/// A validated study: where it lives, its cache and output folders, its cohort and its stages.
public struct StudySpec: Sendable {
    /// The spec file.
    public var specURL: URL
    /// The folder holding the spec; relative paths resolve against it.
    public var directory: URL
    /// The study's optional name.
    public var name: String?
    /// The cache root (default `./cache` next to the spec).
    public var cacheDirectory: URL
    /// The output folder (default `./out` next to the spec).
    public var outputDirectory: URL
    /// Who the study covers.
    public var cohort: Cohort
    /// Stages in a deterministic topological order (ties keep spec order).
    public var stages: [StageSpec]
    /// Checks that wait for upstream outputs (files a stage will make), one line each.
    public var deferredChecks: [String] = []
    /// What the check noticed that is no error (``StudyCheck/note(_:_:)``).
    public var notes: [String] = []
    /// SHA-256 of the spec file's bytes, and the `--set` overrides applied to it, in order: with
    /// the pipe version, what `dataset_description.json` says generated the outputs.
    public var specSHA256: String = ""
    public var overrides: [String] = []
    /// How `pipe run --executor slurm` submits (the spec's `"slurm"` block).
    public var slurm = SlurmSettings()

    /// The stage named `name`.
    public func stage(named name: String) -> StageSpec? { stages.first { $0.name == name } }
}
