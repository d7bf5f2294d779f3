import Foundation
import NIfTI
import Numerics
import PipelineEngine

/// Stage kind `clean`: load, mask and clean one run, as nilearn's maskers and `signal.clean` do.
///
/// Inputs: fMRIPrep derivatives found by entities under `fmriprep` (relative to the spec), or the
/// outputs of an upstream `synth` stage. Order: drop dummy scans → smooth (FWHM mm, whole grid) →
/// mask → nilearn `signal.clean` (detrend, confound regression with orthogonal filtering,
/// Butterworth or ideal band-pass, scrubbing with interpolate-then-censor, standardisation).
///
/// The mask is the run's own: `brain` (fMRIPrep's brain mask, the default), `epi` (nilearn's
/// `compute_epi_mask` on the run), `none`, or a mask file on any grid (resampled by nearest
/// neighbour; `mask_threshold` turns a grey-matter probability map into a mask). Cleaning never
/// depends on other subjects, so adding a subject reruns nothing here; the group stage builds
/// the group mask (intersection or coverage) from the runs' masks.
///
/// `standardize` defaults to `none`, as nilearn's maskers do (signal.clean alone defaults to
/// zscore_sample): the maps are Pearson r, which standardisation cannot change, and seed series
/// are then the mean of the cleaned voxels, the same as cleaning the voxels' mean (nilearn's
/// seed maskers), because every cleaning step is linear.
public struct CleanKind: StageKind {
    public init() {}

    public var name: String { "clean" }
    public var version: Int { 1 }
    public var fanOut: FanOut { .perScan }
    public var upstreamCount: ClosedRange<Int> { 0...1 }

    public func readParameters(_ params: ParameterReader) {
        params.string("fmriprep", default: "")
        params.string("space", default: "MNI152NLin2009cAsym")
        params.string("task", default: "rest")
        params.integer("dummy_scans", default: 0, range: 0...10_000)
        let tr = params.string("tr_source", default: "check")
        if ScanLoader.RepetitionTimeSource(rawValue: tr) == nil {
            params.report("tr_source", "expected \"check\", \"sidecar\" or \"header\", got \"\(tr)\"")
        }
        params.string("mask", default: "brain")
        params.number("mask_threshold", default: 0, range: 0...1e9)
        for key in ["bold_pattern", "confounds_pattern", "mask_pattern", "sidecar_pattern"] { params.string(key, default: "") }
        params.number("smoothing_fwhm", default: 0, range: 0...100)
        params.bool("detrend", default: true)
        params.string("confounds", default: "")
        params.bool("standardize_confounds", default: true)
        let filter = params.string("filter", default: "butterworth")
        if !["butterworth", "ideal", "none"].contains(filter) {
            params.report("filter", "expected \"butterworth\", \"ideal\" or \"none\", got \"\(filter)\"")
        }
        params.number("high_pass", default: 0.01, range: 0...10)
        params.number("low_pass", default: 0.1, range: 0...10)
        params.number("scrub_fd", default: 0, range: 0...100)
        params.number("scrub_std_dvars", default: 0, range: 0...100)
        params.integer("scrub_min_segment", default: 5, range: 0...10_000)
        let standardize = params.string("standardize", default: "none")
        if !["zscore_sample", "zscore", "psc", "none"].contains(standardize) {
            params.report("standardize", "expected \"zscore_sample\", \"zscore\", \"psc\" or \"none\", got \"\(standardize)\"")
        }
    }

    public func memoryEstimate(params: JSONValue, scope: Scope) -> UInt64 { 1 << 30 }

    /// The run's files: fMRIPrep names under `fmriprep`, or explicit `*_pattern` paths with
    /// `{subject}`, `{session}`, `{run}`, `{task}` and `{space}` placeholders (nothing when reading
    /// an upstream synth stage).
    public func sources(params: JSONValue, scope: Scope) throws -> [String: String] {
        var out: [String: String] = [:]
        let mask = params["mask"]?.stringValue ?? "brain"
        if !["brain", "none", "epi"].contains(mask) { out["mask_file"] = mask }
        guard case .scan(let subject, let session, let run) = scope else { return out }
        let space = params["space"]?.stringValue ?? "MNI152NLin2009cAsym", task = params["task"]?.stringValue ?? "rest"
        if let bold = params["bold_pattern"]?.stringValue, !bold.isEmpty {
            func fill(_ pattern: String) -> String {
                pattern.replacingOccurrences(of: "{subject}", with: subject).replacingOccurrences(of: "{session}", with: session ?? "")
                    .replacingOccurrences(of: "{run}", with: run ?? "").replacingOccurrences(of: "{task}", with: task)
                    .replacingOccurrences(of: "{space}", with: space)
            }
            out["bold"] = fill(bold)
            for (key, name) in [("confounds_pattern", "confounds"), ("sidecar_pattern", "sidecar"), ("mask_pattern", "brain_mask")] {
                if let pattern = params[key]?.stringValue, !pattern.isEmpty { out[name] = fill(pattern) }
            }
            return out
        }
        guard let root = params["fmriprep"]?.stringValue, !root.isEmpty else { return out }
        var folder = "\(root)/sub-\(subject)"
        var prefix = "sub-\(subject)"
        if let session { folder += "/ses-\(session)"; prefix += "_ses-\(session)" }
        prefix += "_task-\(task)"
        if let run { prefix += "_run-\(run)" }
        folder += "/func"
        out["bold"] = "\(folder)/\(prefix)_space-\(space)_desc-preproc_bold.nii.gz"
        out["sidecar"] = "\(folder)/\(prefix)_space-\(space)_desc-preproc_bold.json"
        out["confounds"] = "\(folder)/\(prefix)_desc-confounds_timeseries.tsv"
        if mask == "brain" { out["brain_mask"] = "\(folder)/\(prefix)_space-\(space)_desc-brain_mask.nii.gz" }
        return out
    }

    public func run(_ context: TaskContext) throws {
        let p = context.params
        let files: [String: URL]
        if let upstream = context.inputs.first {
            // fMRIPrep-named files from an upstream stage (synth, or any kind that writes them).
            func find(_ suffix: String) -> URL? { upstream.files.first { $0.key.hasSuffix(suffix) }?.value }
            files = ["bold": find("_desc-preproc_bold.nii.gz"), "sidecar": find("_desc-preproc_bold.json"),
                     "confounds": find("_desc-confounds_timeseries.tsv"), "brain_mask": find("_desc-brain_mask.nii.gz")]
                .compactMapValues { $0 }.merging(context.sources) { a, _ in a }
        } else {
            files = context.sources
        }
        guard let bold = files["bold"] else {
            throw InputError(path: context.scope.label, field: "fmriprep", "no BOLD input: set fmriprep to the derivatives folder, or read from a synth stage")
        }
        let maskChoice = p["mask"]?.stringValue ?? "brain"
        let request = ScanLoader.Request(
            bold: bold.path, mask: ["none", "epi"].contains(maskChoice) ? nil : (files["mask_file"] ?? files["brain_mask"])?.path,
            sidecar: files["sidecar"]?.path, confounds: files["confounds"]?.path, dummyScans: p["dummy_scans"]?.intValue ?? 0,
            repetitionTimeSource: ScanLoader.RepetitionTimeSource(rawValue: p["tr_source"]?.stringValue ?? "check") ?? .check,
            epiMask: maskChoice == "epi", maskThreshold: p["mask_threshold"]?.numberValue ?? 0,
            smoothingFWHM: p["smoothing_fwhm"]?.numberValue ?? 0)
        let space = p["space"]?.stringValue ?? "MNI152NLin2009cAsym"
        let prefix = BIDSNames.prefix(context.scope, task: p["task"]?.stringValue ?? "rest")
        // Loaded and cleaned in place in the mapped series file (no second copy of the run).
        let scan = try ScanLoader.load(request) { try CleanedScan.makeSeries(in: context, prefix: prefix, space: space, count: $0) }
        try context.checkCancellation()

        // Confounds and the scrubbing mask.
        var confoundNames: [String] = []
        var confounds: Matrix?
        let strategy = p["confounds"]?.stringValue ?? ""
        if !strategy.isEmpty {
            guard let table = scan.confounds else {
                throw InputError(path: bold.path, field: "confounds", "a confound strategy is set but the run has no confounds file")
            }
            confoundNames = try ConfoundStrategy(strategy).columns(in: table)
            confounds = Matrix(columns: try table.selecting(confoundNames))
        }
        var sampleMask: [Bool]?
        let fd = p["scrub_fd"]?.numberValue ?? 0, dvars = p["scrub_std_dvars"]?.numberValue ?? 0
        if fd > 0 || dvars > 0 {
            guard let table = scan.confounds else {
                throw InputError(path: bold.path, field: "scrub_fd", "scrubbing needs the confounds file (framewise_displacement, std_dvars)")
            }
            let fdColumn = fd > 0 ? try table.selecting(["framewise_displacement"])[0] : nil
            let dvarsColumn = dvars > 0 ? try table.selecting(["std_dvars"])[0] : nil
            sampleMask = try ScrubbingMask.keepMask(framewiseDisplacement: fdColumn, stdDVARS: dvarsColumn,
                                                    fdThreshold: fd > 0 ? fd : .infinity, stdDVARSThreshold: dvars > 0 ? dvars : .infinity,
                                                    minimumSegmentLength: p["scrub_min_segment"]?.intValue ?? 5)
        }

        var options = SignalCleanOptions()
        options.detrend = p["detrend"]?.boolValue ?? true
        options.standardizeConfounds = p["standardize_confounds"]?.boolValue ?? true
        options.repetitionTime = scan.repetitionTime
        let hp = p["high_pass"]?.numberValue ?? 0, lp = p["low_pass"]?.numberValue ?? 0
        options.highPass = hp > 0 ? hp : nil
        options.lowPass = lp > 0 ? lp : nil
        switch p["filter"]?.stringValue ?? "butterworth" {
        case "ideal": options.filter = .idealFFT
        case "none": options.filter = nil
        default: options.filter = (hp > 0 || lp > 0) ? .butterworth : nil
        }
        switch p["standardize"]?.stringValue ?? "none" {
        case "zscore": options.standardize = .zscore
        case "psc": options.standardize = .psc
        case "none": options.standardize = nil
        default: options.standardize = .zscoreSample
        }
        options.sampleMask = sampleMask
        let kept: Int
        do {
            kept = try scan.series.withUnsafeMutableBufferPointer {
                try SignalClean(options: options).clean(inPlace: $0, timePoints: scan.volumes, confounds: confounds)
            }
        } catch let error as SignalCleanError {
            throw InputError(path: bold.path, field: "clean", error.description)
        }
        scan.series.truncate(to: kept * scan.voxels.count)
        let info = CleanedScan.Info(
            prefix: prefix, space: space, repetitionTime: scan.repetitionTime, volumes: scan.volumes, keptVolumes: kept,
            censoredVolumes: sampleMask.map { m in m.indices.filter { !m[$0] } } ?? [], voxelCount: scan.voxels.count,
            gridShape: scan.gridShape, affine: scan.affine.rows, confoundColumns: confoundNames, nonFiniteVoxels: scan.nonFiniteVoxels)
        context.log("\(prefix): \(scan.voxels.count) voxels, \(kept)/\(scan.volumes) volumes kept, \(confoundNames.count) confounds")
        if scan.nonFiniteVoxels > 0 {
            context.log("warning: \(bold.path): \(scan.nonFiniteVoxels) of \(scan.voxels.count) voxels in the mask hold NaN or infinite values, set to 0")
        }
        try CleanedScan(info: info, series: scan.series, voxels: scan.voxels).write(to: context)
    }
}
