/// One preprocessed BOLD run found in fMRIPrep derivatives, with its companion files.
public struct FMRIPrepScan: Sendable, Hashable {
    /// Subject label without `sub-` (e.g. `01`).
    public var subject: String
    /// Session label without `ses-`, if the dataset has sessions.
    public var session: String?
    public var task: String
    public var run: String?
    /// `..._desc-preproc_bold.nii[.gz]`.
    public var bold: String
    /// `..._desc-brain_mask.nii[.gz]` in the same space, if present.
    public var mask: String?
    /// `..._desc-confounds_timeseries.tsv` (or the older `_desc-confounds_regressors.tsv`).
    public var confounds: String?
    /// The BOLD file's JSON sidecar, if present.
    public var sidecar: String?

    /// BIDS entity prefix of the run, e.g. `sub-01_ses-baseline_task-rest` (plus `_run-1`).
    public var prefix: String {
        var parts = ["sub-\(subject)"]
        if let session { parts.append("ses-\(session)") }
        parts.append("task-\(task)")
        if let run { parts.append("run-\(run)") }
        return parts.joined(separator: "_")
    }
}
