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
public struct CleanKind: TypedStageKind {
    public init() {}

    public var name: String { "clean" }
    /// 2: the series is stored unstandardised (`standardize` applies to seed series, after
    /// averaging, as nilearn's seed maskers do); degenerate confound columns are dropped;
    /// voxels left with rounding noise only are 0; the residual degrees of freedom are checked
    /// (`min_dof`) and recorded; an implausible TR or a cut-off at or above Nyquist is an error;
    /// the mask carries the input's coordinate-system code, and names the input's space entity.
    /// 3: the run's mean EPI (`desc-mean_bold.nii.gz`) and its framewise displacement per volume
    /// are written too, for the report. 4: the carpet plot (`desc-carpetplot_bold.png`) is
    /// written too, so that the report never reads the series, and `keep: false` drops the series
    /// alone (`CleanedScan.isBulk`). 5: the mean EPI compressed with zlib's run-length strategy
    /// (`NIfTIWriteOptions.scanMapOutput`).
    public var version: Int { 5 }

    public func dropsOutput(named name: String) -> Bool { CleanedScan.isBulk(name) }

    /// See `SignalCleanOptions.minimumRetainedVariance`: a voxel keeping at most this fraction of
    /// its variance is rounding noise (float32 rounding leaves about 1e-14 of it; real signals
    /// keep more than 1e-4 after any band-pass).
    static let minimumRetainedVariance = 1e-10
    public var fanOut: FanOut { .perScan }
    public var upstreamCount: ClosedRange<Int> { 0...1 }

    /// The stage's parameters, read once (see `parameters(_:)`); each default is written there.
    public struct Parameters: Sendable, Equatable {
        var fmriprep: String
        /// The space entity ("": none given; fMRIPrep discovery and `{space}` then use
        /// `defaultSpace`, and outputs take the input's own space entity, if it has one).
        var space: String
        var task: String
        /// Optional entities that choose among fMRIPrep files (`acq`, `ce`, `rec`, `dir`, `echo`,
        /// `res`), by entity key; "" leaves the entity free.
        var entities: [String: String]
        var dummyScans: Int
        var trSource: ScanLoader.RepetitionTimeSource
        /// The TR in seconds, overriding the header and the sidecar (0: read them).
        var repetitionTime: Double
        /// The fewest residual degrees of freedom a cleaned run may have.
        var minDOF: Int
        /// `brain`, `epi`, `none`, or a mask file.
        var mask: String
        var maskThreshold: Double
        var boldPattern: String
        var confoundsPattern: String
        var maskPattern: String
        var sidecarPattern: String
        var smoothingFWHM: Double
        var detrend: Bool
        /// The confound strategy ("" for none).
        var confounds: String
        var standardizeConfounds: Bool
        /// `butterworth`, `ideal` or `none`.
        var filter: String
        var highPass: Double
        var lowPass: Double
        var scrubFD: Double
        var scrubStdDVARS: Double
        var scrubMinSegment: Int
        /// `zscore_sample`, `zscore`, `psc` or `none`.
        var standardize: String

        /// The space to find files in.
        var matchSpace: String { space.isEmpty ? CleanKind.defaultSpace : space }
    }

    public func parameters(_ params: ParameterReader) -> Parameters {
        let fmriprep = params.string("fmriprep", default: "")
        let space = params.string("space", default: "")
        let task = params.string("task", default: "rest")
        var entities: [String: String] = [:]
        for key in ["acq", "ce", "rec", "dir", "echo", "res"] {
            let value = params.string(key, default: "")
            if !value.isEmpty && !value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) {
                params.report(key, "'\(value)' is not a BIDS label (letters and digits only)")
            }
            entities[key] = value
        }
        let dummy = params.integer("dummy_scans", default: 0, range: 0...10_000)
        let tr = params.string("tr_source", default: "check")
        if ScanLoader.RepetitionTimeSource(rawValue: tr) == nil {
            params.report("tr_source", "expected \"check\", \"sidecar\" or \"header\", got \"\(tr)\"")
        }
        let repetitionTime = params.number("repetition_time", default: 0, range: 0...ScanLoader.plausibleRepetitionTime.upperBound)
        if repetitionTime > 0 && repetitionTime < ScanLoader.plausibleRepetitionTime.lowerBound {
            params.report("repetition_time", "expected a TR in seconds in \(ScanLoader.plausibleRepetitionTime.lowerBound)...\(Int(ScanLoader.plausibleRepetitionTime.upperBound)), or 0 to read it from the files")
        }
        let minDOF = params.integer("min_dof", default: 10, range: 1...100_000)
        let mask = params.string("mask", default: "brain")
        let maskThreshold = params.number("mask_threshold", default: 0, range: 0...1e9)
        let patterns = ["bold_pattern", "confounds_pattern", "mask_pattern", "sidecar_pattern"].map { params.string($0, default: "") }
        let fwhm = params.number("smoothing_fwhm", default: 0, range: 0...100)
        let detrend = params.bool("detrend", default: true)
        let confounds = params.string("confounds", default: "")
        let standardizeConfounds = params.bool("standardize_confounds", default: true)
        let filter = params.string("filter", default: "butterworth")
        if !["butterworth", "ideal", "none"].contains(filter) {
            params.report("filter", "expected \"butterworth\", \"ideal\" or \"none\", got \"\(filter)\"")
        }
        let highPass = params.number("high_pass", default: 0.01, range: 0...10)
        let lowPass = params.number("low_pass", default: 0.1, range: 0...10)
        if filter != "none", highPass > 0, lowPass > 0, highPass >= lowPass, highPass <= 10, lowPass <= 10 {
            params.report("high_pass", "\(JSONValue.format(number: highPass)) Hz is not below low_pass (\(JSONValue.format(number: lowPass)) Hz); the band would be empty")
        }
        let fd = params.number("scrub_fd", default: 0, range: 0...100)
        let dvars = params.number("scrub_std_dvars", default: 0, range: 0...100)
        let segment = params.integer("scrub_min_segment", default: 5, range: 0...10_000)
        let standardize = params.string("standardize", default: "none")
        if !["zscore_sample", "zscore", "psc", "none"].contains(standardize) {
            params.report("standardize", "expected \"zscore_sample\", \"zscore\", \"psc\" or \"none\", got \"\(standardize)\"")
        }
        return Parameters(fmriprep: fmriprep, space: space, task: task, entities: entities, dummyScans: dummy,
                          trSource: ScanLoader.RepetitionTimeSource(rawValue: tr) ?? .check, repetitionTime: repetitionTime, minDOF: minDOF,
                          mask: mask, maskThreshold: maskThreshold,
                          boldPattern: patterns[0], confoundsPattern: patterns[1], maskPattern: patterns[2], sidecarPattern: patterns[3],
                          smoothingFWHM: fwhm, detrend: detrend, confounds: confounds, standardizeConfounds: standardizeConfounds,
                          filter: filter, highPass: highPass, lowPass: lowPass, scrubFD: fd, scrubStdDVARS: dvars,
                          scrubMinSegment: segment, standardize: standardize)
    }

    public func memoryEstimate(_ p: Parameters, scope: Scope) -> UInt64 { 1 << 30 }

    public func methods(stage: StageSpec) -> MethodsText? {
        let p = typed(stage)
        var steps: [String] = []
        if p.dummyScans > 0 { steps.append("the first \(p.dummyScans) volumes were discarded") }
        if p.smoothingFWHM > 0 { steps.append("the data were smoothed with a \(JSONValue.format(number: p.smoothingFWHM)) mm FWHM Gaussian kernel") }
        steps.append("voxels were masked with " + (p.mask == "brain" ? "fMRIPrep's brain mask" : p.mask == "epi" ? "an EPI mask computed from the run" : p.mask == "none" ? "no mask" : "the mask \(p.mask)"))
        var clean = "then cleaned as nilearn's signal.clean [Abraham2014]: " + (p.detrend ? "linear detrending" : "no detrending")
        if !p.confounds.isEmpty { clean += ", regression of the confounds \(p.confounds) (filtered like the data)" }
        if p.filter != "none" && (p.highPass > 0 || p.lowPass > 0) {
            clean += ", \(p.filter == "ideal" ? "an ideal FFT" : "a 5th-order zero-phase Butterworth") band-pass of \(JSONValue.format(number: p.highPass))–\(JSONValue.format(number: p.lowPass)) Hz"
        }
        if p.scrubFD > 0 || p.scrubStdDVARS > 0 {
            clean += ", and scrubbing of volumes with framewise displacement above \(JSONValue.format(number: p.scrubFD)) mm or standardised DVARS above \(JSONValue.format(number: p.scrubStdDVARS)) (segments shorter than \(p.scrubMinSegment) volumes also removed; interpolated before filtering) [Power2012]"
        }
        steps.append(clean)
        var refs = [MethodsReferences.nilearn]
        if p.scrubFD > 0 || p.scrubStdDVARS > 0 { refs.append(MethodsReferences.power) }
        if p.confounds.lowercased().contains("24p") { refs.append(MethodsReferences.friston) }
        return MethodsText("Each run was processed separately: " + steps.joined(separator: "; ") + ". Degenerate confound columns were dropped, and a run that censoring left with fewer than \(p.minDOF) residual degrees of freedom was excluded.", references: refs)
    }

    /// The space fMRIPrep discovery and `{space}` use when the spec gives none.
    static let defaultSpace = "MNI152NLin2009cAsym"

    /// Checks the settings against every run's files, at spec time (``checkEveryRun``): every
    /// confound column (and the scrubbing columns) in each confounds file, one row per volume,
    /// a readable header and repetition time; then, for each length and repetition time among the
    /// runs, the dummy scans against the length, the band-pass cut-offs below the Nyquist
    /// frequency (sidecar or header, as `tr_source` says), and that the settings leave `min_dof`
    /// residual degrees of freedom, counted as `run` counts them (too few even uncensored is an
    /// error, as it is there; a run that only its censoring takes below is refused when it runs,
    /// which is not a spec error). Reads the headers, sidecars and confounds files' header lines
    /// (and, per length and TR, one confounds table). Each run's own files are checked again when
    /// the run is read.
    public func check(_ p: Parameters, stage: StageSpec, study: StudyCheck) {
        // Files named by patterns (and no upstream stage's): the confounds come only from
        // confounds_pattern, and a strategy or scrubbing without them stopped every run's clean task.
        if !p.boldPattern.isEmpty && p.confoundsPattern.isEmpty && stage.from.isEmpty {
            let needs = (p.confounds.isEmpty ? [] : ["the confound strategy"]) + (p.scrubFD > 0 ? ["scrub_fd"] : [])
                + (p.scrubStdDVARS > 0 ? ["scrub_std_dvars"] : [])
            if !needs.isEmpty {
                study.report(stage, "bold_pattern", "with bold_pattern, the runs' confounds files come from confounds_pattern, which is not set, "
                             + "and \(needs.joined(separator: " and ")) need\(needs.count == 1 ? "s" : "") them: set confounds_pattern "
                             + "(e.g. \"sub-{subject}/ses-{session}/func/sub-{subject}_ses-{session}_task-{task}_desc-confounds_timeseries.tsv\")")
            }
        }
        // Subjects with fMRIPrep outputs but no row in the participants table are in no cohort:
        // said, not left out without a word.
        if let listed = study.spec.cohort.tableSubjects, !p.fmriprep.isEmpty, p.boldPattern.isEmpty,
           case let folder = study.path(p.fmriprep), let entries = try? FileManager.default.contentsOfDirectory(atPath: folder) {
            let unlisted = entries.filter { name in
                var isFolder: ObjCBool = false
                return name.hasPrefix("sub-") && !listed.contains(String(name.dropFirst(4)))
                    && FileManager.default.fileExists(atPath: folder + "/" + name, isDirectory: &isFolder) && isFolder.boolValue
            }.sorted()
            if !unlisted.isEmpty {
                study.note(stage, "\(unlisted.count == 1 ? "1 subject has a folder" : "\(unlisted.count) subjects have folders") in \(p.fmriprep) but no row in the participants table, "
                           + "so \(unlisted.count == 1 ? "it is" : "they are") in no cohort: \(unlisted.listed()); add a row to include \(unlisted.count == 1 ? "it" : "them")")
            }
        }
        guard let scan = study.spec.cohort.scans.first else { return }
        guard let files = try? sources(p, scope: scan, directory: study.spec.directory), files["bold"] != nil else {
            if !stage.from.isEmpty { study.checkLater(stage, "confound columns, cut-offs and degrees of freedom against each run's files (they come from \(stage.from[0]))") }
            return
        }
        checkEveryRun(p, stage: stage, study: study)
    }

    /// The full check of one run (cut-offs against its Nyquist frequency, dummy scans against its
    /// length, its degrees of freedom), for each length and repetition time among the runs
    /// (``checkEveryRun``, which reports the confound columns of every run).
    func checkRun(_ p: Parameters, stage: StageSpec, study: StudyCheck, run: RunSurvey.Run, repetitionTime tr: Double) {
        let first = run.label, files = run.files, header = run.header, request = run.request
        let bold = files["bold"] ?? request.bold
        let needsConfounds = !p.confounds.isEmpty || p.scrubFD > 0 || p.scrubStdDVARS > 0
        var columns: [String] = []
        var table: ConfoundsTable?  // read, and its columns found: the degrees of freedom can be counted
        if needsConfounds, let confounds = files["confounds"].map(study.path), case .regular = FileSystem.kind(of: confounds) {
            do {
                let t = try ConfoundsTable.read(confounds)
                table = t
                if !p.confounds.isEmpty {
                    do { columns = try ConfoundStrategy(p.confounds).columns(in: t) } catch { table = nil }  // reported for every run
                }
            } catch let e as InputError {
                // A column named twice, an uneven line or an invalid cell is reported for every
                // run (`checkEveryRun`).
                let reportedForEveryRun = (try? run.confounds?.get()).map { $0.duplicate != nil || $0.uneven != nil || $0.invalidCell != nil } ?? false
                if !reportedForEveryRun { study.report(stage, "confounds", e.description) }
            } catch {}
        }
        let boldPath = request.bold
        let above = Self.cutoffsAtOrAboveNyquist(p, repetitionTime: tr)
        for (key, cutoff) in above {
            study.report(stage, key, "\(JSONValue.format(number: cutoff)) Hz is at or above the Nyquist frequency \(JSONValue.format(number: 0.5 / tr)) Hz "
                         + "of the repetition time \(JSONValue.format(number: tr)) s of \(first) (\(bold)); the filter cannot apply")
        }
        guard above.isEmpty else { return }
        // The run's degrees of freedom, counted as `run` counts them: too few even uncensored is
        // the settings' fault, and would fail every run of its length and TR.
        let total: Int
        do { total = try ScanLoader.checkShape(request, header: header).total } catch let e as InputError {
            if e.field == "dummy_scans" { study.report(stage, "dummy_scans", "\(first): \(e.message) (\(bold))") }
            return
        } catch { return }
        let volumes = total - p.dummyScans
        var trimmed: ConfoundsTable?
        var confounds: Matrix?
        if needsConfounds {
            // Unusable, absent or the wrong length (each reported by checkEveryRun).
            guard let table, let t = try? ScanLoader.trimmed(table, path: table.path, bold: boldPath, total: total, dummyScans: p.dummyScans)
            else { return }
            trimmed = t
            if !p.confounds.isEmpty {
                guard let selected = try? t.selecting(columns) else { return }
                confounds = Matrix(columns: selected)
            }
        }
        var options = Self.signalOptions(p, repetitionTime: tr)
        do { options.sampleMask = try Self.sampleMask(p, confounds: trimmed, bold: boldPath) } catch { return }
        let kept = options.sampleMask.map { $0.filter { $0 }.count } ?? volumes
        guard let count = try? DegreesOfFreedom.count(volumes: volumes, kept: kept, confounds: confounds, options: options) else { return }
        if case .settings(let uncensored) = count.dof.shortfall(minimum: p.minDOF, confoundRank: count.rank, columns: confounds?.columns, options: options) {
            study.report(stage, "min_dof", "\(first)'s run \(bold) " + uncensored.explanation(minimum: p.minDOF, censored: kept < volumes))
        }
    }

    /// The band-pass cut-offs (`high_pass`, `low_pass`) at or above the Nyquist frequency of a run
    /// of repetition time `tr`, which the filter cannot apply (none without a filter): the one rule
    /// of the spec check and of the run.
    static func cutoffsAtOrAboveNyquist(_ p: Parameters, repetitionTime tr: Double) -> [(key: String, cutoff: Double)] {
        guard p.filter != "none" else { return [] }
        return [("high_pass", p.highPass), ("low_pass", p.lowPass)].filter { $0.1 > 0 && $0.1 >= 0.5 / tr }.map { (key: $0.0, cutoff: $0.1) }
    }

    /// The cleaning options of the stage's parameters for a run of repetition time `tr`, without
    /// censoring (`run` adds the run's sample mask).
    static func signalOptions(_ p: Parameters, repetitionTime tr: Double) -> SignalCleanOptions {
        var options = SignalCleanOptions()
        options.detrend = p.detrend
        options.standardizeConfounds = p.standardizeConfounds
        options.repetitionTime = tr
        let hp = p.highPass, lp = p.lowPass
        options.highPass = hp > 0 ? hp : nil
        options.lowPass = lp > 0 ? lp : nil
        switch p.filter {
        case "ideal": options.filter = .idealFFT
        case "none": options.filter = nil
        default: options.filter = (hp > 0 || lp > 0) ? .butterworth : nil
        }
        // The voxel series are stored cleaned but not standardised: `standardize` applies to the
        // seed series, after averaging, as nilearn's seed maskers do (`ConnectivityKind`).
        options.standardize = nil
        options.minimumRetainedVariance = Self.minimumRetainedVariance
        return options
    }

    /// The censoring mask of the stage's scrubbing settings for a run's confounds table (dummy
    /// scans dropped); nil without scrubbing.
    /// - Throws: `InputError` when scrubbing is set and the run has no confounds table, or the
    ///   table lacks a column it needs.
    static func sampleMask(_ p: Parameters, confounds table: ConfoundsTable?, bold: String) throws -> [Bool]? {
        let fd = p.scrubFD, dvars = p.scrubStdDVARS
        guard fd > 0 || dvars > 0 else { return nil }
        guard let table else {
            throw InputError(path: bold, field: "scrub_fd", "scrubbing needs the confounds file (framewise_displacement, std_dvars)")
        }
        let fdColumn = fd > 0 ? try table.selecting(["framewise_displacement"])[0] : nil
        let dvarsColumn = dvars > 0 ? try table.selecting(["std_dvars"])[0] : nil
        return try ScrubbingMask.keepMask(framewiseDisplacement: fdColumn, stdDVARS: dvarsColumn,
                                          fdThreshold: fd > 0 ? fd : .infinity, stdDVARSThreshold: dvars > 0 ? dvars : .infinity,
                                          minimumSegmentLength: p.scrubMinSegment)
    }

    /// The run's files: found by entities under `fmriprep` (``FMRIPrepQuery``), or explicit
    /// `*_pattern` paths with `{subject}`, `{session}`, `{run}`, `{task}` and `{space}` placeholders
    /// (nothing when reading an upstream synth stage). Paths are relative as `fmriprep` is.
    /// - Parameter directory: the spec's folder, against which a relative `fmriprep` is listed.
    /// - Throws: ``PipeError`` when no BOLD file or several match (the files are listed).
    public func sources(_ p: Parameters, scope: Scope, directory: URL) throws -> [String: String] {
        var out: [String: String] = [:]
        let mask = p.mask
        if !["brain", "none", "epi"].contains(mask) { out["mask_file"] = mask }
        guard case .scan(let subject, let session, let run) = scope else { return out }
        let space = p.matchSpace, task = p.task
        if !p.boldPattern.isEmpty {
            func fill(_ pattern: String) -> String {
                pattern.replacingOccurrences(of: "{subject}", with: subject).replacingOccurrences(of: "{session}", with: session ?? "")
                    .replacingOccurrences(of: "{run}", with: run ?? "").replacingOccurrences(of: "{task}", with: task)
                    .replacingOccurrences(of: "{space}", with: space)
            }
            out["bold"] = fill(p.boldPattern)
            for (pattern, name) in [(p.confoundsPattern, "confounds"), (p.sidecarPattern, "sidecar"), (p.maskPattern, "brain_mask")] {
                if !pattern.isEmpty { out[name] = fill(pattern) }
            }
            return out
        }
        guard !p.fmriprep.isEmpty else { return out }
        // The sidecar is read for the repetition time alone: not when the header or the spec gives it.
        let sidecar = p.repetitionTime == 0 && p.trSource != .header
        return try out.merging(query(p).files(subject: subject, session: session, run: run, mask: mask == "brain", sidecar: sidecar,
                                              directory: directory)) { a, _ in a }
    }

    /// ``sources(_:scope:directory:)`` with relative paths listed against the working directory.
    public func sourceParameter(_ name: String) -> String? { name == "mask_file" ? "mask" : name }

    public func sources(_ p: Parameters, scope: Scope) throws -> [String: String] {
        try sources(p, scope: scope, directory: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
    }

    /// The runs of the BOLD files under `fmriprep` that match the stage's entities, for a cohort
    /// that lists no runs; nil without `fmriprep` or with `bold_pattern`.
    public func runsOnDisk(_ p: Parameters, subject: String, session: String?, directory: URL) -> [String?]? {
        guard !p.fmriprep.isEmpty, p.boldPattern.isEmpty else { return nil }
        return query(p).runs(subject: subject, session: session, directory: directory)
    }

    private func query(_ p: Parameters) -> FMRIPrepQuery {
        FMRIPrepQuery(root: p.fmriprep, entities: p.entities.merging(["task": p.task, "space": p.matchSpace]) { _, b in b })
    }

    public func run(_ p: Parameters, _ context: TaskContext) throws {
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
        let maskChoice = p.mask
        var request = ScanLoader.Request(
            bold: bold.path, mask: p.maskFile(in: files)?.path,
            sidecar: files["sidecar"]?.path, confounds: files["confounds"]?.path, dummyScans: p.dummyScans,
            repetitionTimeSource: p.trSource, epiMask: maskChoice == "epi", maskThreshold: p.maskThreshold,
            smoothingFWHM: p.smoothingFWHM)
        request.repetitionTimeOverride = p.repetitionTime > 0 ? p.repetitionTime : nil
        // The output's space entity: the input's own (from its BIDS name), else the spec's, else none.
        let space = FMRIPrepLayout.Entities(fileName: bold.lastPathComponent)?.pairs["space"] ?? p.space
        let prefix = BIDSNames.prefix(context.scope, task: p.task)
        // Loaded and cleaned in place in the mapped series file (no second copy of the run).
        let scan = try ScanLoader.load(request) { try CleanedScan.makeSeries(in: context, prefix: prefix, space: space, count: $0) }
        try context.checkCancellation()

        // Confounds and the scrubbing mask.
        var confoundNames: [String] = []
        var confounds: Matrix?
        let strategy = p.confounds
        if !strategy.isEmpty {
            guard let table = scan.confounds else {
                throw InputError(path: bold.path, field: "confounds", "a confound strategy is set but the run has no confounds file")
            }
            confoundNames = try ConfoundStrategy(strategy).columns(in: table)
            confounds = Matrix(columns: try table.selecting(confoundNames))
        }
        let sampleMask = try Self.sampleMask(p, confounds: scan.confounds, bold: bold.path)

        var options = Self.signalOptions(p, repetitionTime: scan.repetitionTime)
        options.sampleMask = sampleMask
        let tr = scan.repetitionTime
        if let (key, cutoff) = Self.cutoffsAtOrAboveNyquist(p, repetitionTime: tr).first {
            throw InputError(path: bold.path, field: key,
                             "\(cutoff) Hz is at or above the Nyquist frequency \(0.5 / tr) Hz of the run's repetition time \(tr) s, so the band-pass cannot apply; set repetition_time if the file's TR is wrong, or lower \(key)")
        }
        let cleaner = SignalClean(options: options)
        var kept = 0
        var zeroed = [Bool](repeating: false, count: scan.voxels.count)
        var means = [Double](repeating: 0, count: scan.voxels.count)
        var variances = [Double](repeating: 0, count: scan.voxels.count)
        var dof: DegreesOfFreedom
        var dropped: [String] = []
        let keptByMask = sampleMask.map { $0.filter { $0 }.count } ?? scan.volumes
        do {
            let count = try DegreesOfFreedom.count(volumes: scan.volumes, kept: keptByMask, confounds: confounds, options: options)
            dof = count.dof
            if let report = count.report {
                dropped = report.droppedConfounds.map { "\(confoundNames[$0.column]) (\($0.reason))" }
                for d in dropped { context.log("\(prefix): confound \(d) dropped") }
            }
            // Too few because of the settings (even uncensored) is an error; because of the
            // censoring, the run is refused (see `CleanedScan.Refusal`).
            if case .settings(let uncensored) = dof.shortfall(minimum: p.minDOF, confoundRank: count.rank, columns: confounds?.columns, options: options) {
                throw InputError(path: bold.path, field: "min_dof", uncensored.explanation(minimum: p.minDOF, censored: dof.kept < scan.volumes))
            }
            if dof.residual >= p.minDOF {
                kept = try scan.series.withUnsafeMutableBufferPointer { series in
                    try zeroed.withUnsafeMutableBufferPointer { z in
                        try means.withUnsafeMutableBufferPointer { m in
                            try variances.withUnsafeMutableBufferPointer { va in
                                try cleaner.clean(inPlace: series, timePoints: scan.volumes, confounds: confounds,
                                                  originalMeans: m, zeroed: z, originalVariances: va)
                            }
                        }
                    }
                }
            }
        } catch let error as SignalCleanError {
            throw InputError(path: bold.path, field: "clean", error.description)
        }
        let refusal = dof.residual < p.minDOF
            ? CleanedScan.Refusal(rule: "min_dof", value: dof.residual, threshold: p.minDOF, reason: dof.breakdown(minimum: p.minDOF)) : nil
        if refusal != nil { kept = keptByMask }
        let zeroedCount = zeroed.filter { $0 }.count
        if zeroedCount > 0 {
            context.log("\(prefix): \(zeroedCount) voxels kept less than \(Self.minimumRetainedVariance) of their variance (rounding noise only); set to 0")
        }
        if refusal == nil { scan.series.truncate(to: kept * scan.voxels.count) }
        let fdSeries = ScanQuality.framewiseDisplacement(scan.confounds)
        let displacement = fdSeries?.compactMap { $0 }
        let censored = sampleMask.map { m in m.filter { !$0 }.count } ?? 0
        var quality = ScanQuality(
            meanFD: ScanQuality.meanFD(fdSeries),
            medianFD: displacement.flatMap(ScanQuality.median), maxFD: displacement?.max(), volumes: scan.volumes, keptVolumes: kept, censoredVolumes: censored,
            censoredFraction: ScanQuality.censoredFraction(sampleMask, volumes: scan.volumes),
            meanStdDVARSBefore: scan.confounds?.columns["std_dvars"].flatMap { c in
                let v = c.dropFirst().filter(\.isFinite)
                return v.isEmpty ? nil : v.reduce(0, +) / Double(v.count)
            },
            meanStdDVARSAfter: nil,
            medianTSNR: nil, residualDegreesOfFreedom: dof.residual)
        let info = CleanedScan.Info(
            prefix: prefix, space: space, repetitionTime: scan.repetitionTime, volumes: scan.volumes, keptVolumes: kept,
            censoredVolumes: sampleMask.map { m in m.indices.filter { !m[$0] } } ?? [], voxelCount: scan.voxels.count,
            gridShape: scan.gridShape, affine: scan.affine.rows, confoundColumns: confoundNames, nonFiniteVoxels: scan.nonFiniteVoxels,
            residualDegreesOfFreedom: dof.residual, droppedConfounds: dropped.isEmpty ? nil : dropped, zeroedVoxels: zeroedCount,
            standardize: p.standardize == "none" ? nil : p.standardize, xformCode: scan.xformCode,
            quality: quality, framewiseDisplacement: fdSeries, refusal: refusal)
        if let refusal {
            // Recorded (the QC values and why), not cleaned: no series, mask or mean image.
            context.log("\(prefix): refused, not cleaned: \(refusal.reason)")
            try context.discardOutput(CleanedScan.stem(prefix: prefix, space: space) + CleanedScan.seriesFile)
            try CleanedScan.writeRefused(info, to: context)
            return
        }
        context.log("\(prefix): \(scan.voxels.count) voxels, \(kept)/\(scan.volumes) volumes kept, \(confoundNames.count) confounds")
        if scan.nonFiniteVoxels > 0 {
            context.log("warning: \(bold.path): \(scan.nonFiniteVoxels) of \(scan.voxels.count) voxels in the mask hold NaN or infinite values, set to 0")
        }
        // The series is final. Two halves of about equal length run at once: its digest, then the
        // mean EPI; the standardised DVARS and median tSNR, then the carpet plot and the mask.
        var cleaned = CleanedScan(info: info, series: scan.series, voxels: scan.voxels,
                                  originalMeans: p.standardize == "psc" ? means : nil, meanImage: means)
        var seriesFinished = false
        var hashError: Error?, qualityError: Error?
        Parallel.forEach(2) { part in
            if part == 1 {
                do {
                    seriesFinished = try CleanedScan.finishMappedSeries(scan.series, prefix: prefix, space: space,
                                                                        values: kept * scan.voxels.count, in: context)
                    try cleaned.writeMeanImage(to: context)
                } catch {
                    hashError = error
                }
                return
            }
            quality.meanStdDVARSAfter = scan.series.withUnsafeBufferPointer {
                ScanQuality.meanStandardizedDVARS(UnsafeBufferPointer(rebasing: $0[0..<(kept * scan.voxels.count)]), timePoints: kept, skip: zeroed)
            }
            quality.medianTSNR = ScanQuality.medianTSNR(means: means, variances: variances)
            do { try cleaned.writeImages(to: context) } catch { qualityError = error }
        }
        if let error = hashError ?? qualityError { throw error }
        cleaned.info.quality = quality
        try cleaned.write(to: context, seriesFinished: seriesFinished, imagesWritten: true)
    }
}

extension CleanKind.Parameters {
    /// The mask file cleaning reads among a run's files (`sources`, or an upstream stage's): the
    /// `mask` file, else the run's brain mask; nil for `none` and `epi` (no file).
    func maskFile<Path>(in files: [String: Path]) -> Path? {
        ["none", "epi"].contains(mask) ? nil : files["mask_file"] ?? files["brain_mask"]
    }

    /// How messages name that mask.
    var maskNoun: String { mask == "brain" ? "brain mask" : "mask" }
}
