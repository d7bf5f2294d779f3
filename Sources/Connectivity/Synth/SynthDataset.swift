import Foundation
import NIfTI
import Numerics
import PipelineEngine

/// Writes the synthetic cohort as fMRIPrep derivatives in BIDS layout:
///
/// ```
/// DIR/participants.tsv, participants.json, dataset_description.json, synth_truth.tsv
/// DIR/atlas/atlas-synth_space-MNI152NLin2009cAsym_res-<4|2>mm_dseg.nii.gz and .tsv
/// DIR/derivatives/fmriprep/dataset_description.json
/// DIR/derivatives/fmriprep/sub-XX/ses-<baseline|day13>/func/
///     sub-XX_ses-S_task-rest_space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz (+ .json)
///     sub-XX_ses-S_task-rest_space-MNI152NLin2009cAsym_desc-brain_mask.nii.gz
///     sub-XX_ses-S_task-rest_desc-confounds_timeseries.tsv
/// ```
/// BOLD data are int16 with scl_slope 0.05, like scanner-derived data. Deterministic from the
/// seed: the same options give byte-identical files, whatever the thread count.
public enum SynthDataset {
    public struct Options: Sendable {
        public var scale: SynthGrid.Scale = .demo
        public var seed: UInt64 = 1
        public var null = false
        /// Subjects to write (all 49 when nil).
        public var subjects: [String]?
        /// Scans generated at once.
        public var jobs = ThreadBudget.current

        public init(scale: SynthGrid.Scale = .demo, seed: UInt64 = 1, null: Bool = false, subjects: [String]? = nil) {
            self.scale = scale
            self.seed = seed
            self.null = null
            self.subjects = subjects
        }
    }

    /// What was written.
    public struct Summary: Sendable {
        public var subjects: Int
        public var scans: Int
        public var bytes: Int64
    }

    public static let space = "MNI152NLin2009cAsym"
    /// The stored slope of the int16 BOLD data.
    static let boldSlope = 0.05

    /// Generates the cohort into `folder`.
    public static func generate(to folder: String, options: Options) throws -> Summary {
        let root = URL(fileURLWithPath: folder)
        let grid = SynthGrid(scale: options.scale)
        let atlas = SynthAtlas(grid: grid)
        let cohort = SynthCohort(seed: options.seed, null: options.null)
        var selected = cohort.participants
        if let wanted = options.subjects {
            let known = Set(cohort.participants.map(\.id))
            if let unknown = wanted.first(where: { !known.contains($0) }) {
                throw SynthError(message: "unknown subject '\(unknown)'; the synthetic cohort has sub-01 to sub-\(cohort.participants.count)")
            }
            selected = cohort.participants.filter { wanted.contains($0.id) }
        }
        let fm = FileManager.default
        try makeFolder(root.appendingPathComponent("atlas"))
        try write(cohort.participantsTSV(selected), root.appendingPathComponent("participants.tsv"))
        try write(json(participantsSidecar(null: options.null)), root.appendingPathComponent("participants.json"))
        try write(cohort.truthTSV(selected), root.appendingPathComponent("synth_truth.tsv"))
        let generator = BIDSDatasetDescription.Generator(
            name: "pipe synth", description: "seed \(options.seed), scale \(options.scale.rawValue)\(options.null ? ", null (no planted effects)" : "")")
        try write(json(BIDSDatasetDescription(name: "pipe synthetic ketamine cohort", datasetType: "raw", generatedBy: [generator])),
                  root.appendingPathComponent("dataset_description.json"))
        let fmriprep = root.appendingPathComponent("derivatives/fmriprep")
        try makeFolder(fmriprep)
        try write(json(BIDSDatasetDescription(name: "fMRIPrep-like derivatives (synthetic)", datasetType: "derivative",
                                              generatedBy: [.init(name: "pipe synth")])), fmriprep.appendingPathComponent("dataset_description.json"))

        let res = options.scale == .demo ? "4mm" : "2mm"
        let atlasImage = NIfTIImage(shape: grid.shape, affine: grid.affine, data: atlas.labels.map { Float($0) }, code: 4)
        try NIfTIFile.write(atlasImage, to: root.appendingPathComponent("atlas/atlas-synth_space-\(space)_res-\(res)_dseg.nii.gz").path,
                            options: NIfTIWriteOptions(datatype: .uint8))
        try write(SynthAtlas.tsv, root.appendingPathComponent("atlas/atlas-synth_space-\(space)_res-\(res)_dseg.tsv"))
        let maskImage = NIfTIImage(shape: grid.shape, affine: grid.affine, data: grid.mask.map { $0 ? Float(1) : 0 }, code: 4)

        let scans = selected.flatMap { p in SynthCohort.sessions.map { (p, $0) } }
        let failures = Locked<[any Error]>([])
        let queue = DispatchQueue(label: "pipe.synth", attributes: .concurrent)
        let group = DispatchGroup()
        let slots = DispatchSemaphore(value: max(1, options.jobs))
        for (participant, session) in scans {
            slots.wait()
            group.enter()
            queue.async {
                defer { slots.signal(); group.leave() }
                do {
                    try writeScan(participant: participant, session: session, grid: grid, atlas: atlas, mask: maskImage,
                                  fmriprep: fmriprep, seed: options.seed)
                } catch {
                    failures.withLock { $0.append(error) }
                }
            }
        }
        group.wait()
        if let error = failures.current.first { throw error }
        let bytes = (fm.enumerator(at: root, includingPropertiesForKeys: [.fileSizeKey])?.allObjects as? [URL] ?? [])
            .reduce(Int64(0)) { $0 + Int64((try? $1.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0) }
        return Summary(subjects: selected.count, scans: scans.count, bytes: bytes)
    }

    static func writeScan(participant: SynthCohort.Participant, session: String, grid: SynthGrid, atlas: SynthAtlas,
                          mask: NIfTIImage<Float>, fmriprep: URL, seed: UInt64) throws {
        let func_ = fmriprep.appendingPathComponent("\(participant.id)/ses-\(session)/func")
        try makeFolder(func_)
        let stem = "\(participant.id)_ses-\(session)_task-rest"
        try writeScanFiles(participant: participant, session: session, grid: grid, atlas: atlas, mask: mask, seed: seed,
                           names: ScanFileNames(
                               bold: func_.appendingPathComponent("\(stem)_space-\(space)_desc-preproc_bold.nii.gz").path,
                               sidecar: func_.appendingPathComponent("\(stem)_space-\(space)_desc-preproc_bold.json").path,
                               mask: func_.appendingPathComponent("\(stem)_space-\(space)_desc-brain_mask.nii.gz").path,
                               confounds: func_.appendingPathComponent("\(stem)_desc-confounds_timeseries.tsv").path))
    }

    /// Where one scan's four files go.
    public struct ScanFileNames: Sendable {
        public var bold: String
        public var sidecar: String
        public var mask: String
        public var confounds: String

        public init(bold: String, sidecar: String, mask: String, confounds: String) {
            self.bold = bold
            self.sidecar = sidecar
            self.mask = mask
            self.confounds = confounds
        }
    }

    /// Generates one scan and writes its BOLD image, sidecar, brain mask and confounds.
    static func writeScanFiles(participant: SynthCohort.Participant, session: String, run: String? = nil, grid: SynthGrid, atlas: SynthAtlas,
                               mask: NIfTIImage<Float>, seed: UInt64, names: ScanFileNames) throws {
        let scan = SynthScan(grid: grid, atlas: atlas, participant: participant, session: session, run: run, seed: seed)
        let bold = NIfTIImage(shape: grid.shape + [grid.volumes], affine: grid.affine, data: scan.data,
                              repetitionTime: grid.repetitionTime, code: 4)
        try NIfTIFile.write(bold, to: names.bold, options: NIfTIWriteOptions(datatype: .int16, scaling: (boldSlope, 0)))
        try write(json(BOLDSidecar(repetitionTime: grid.repetitionTime, taskName: "rest", skullStripped: false, sources: ["synthetic"])),
                  URL(fileURLWithPath: names.sidecar))
        try NIfTIFile.write(mask, to: names.mask, options: NIfTIWriteOptions(datatype: .uint8))
        var tsv = scan.confounds.map(\.name).joined(separator: "\t") + "\n"
        for t in 0..<grid.volumes {
            tsv += scan.confounds.map { $0.values[t].isNaN ? "n/a" : String(format: "%.10g", $0.values[t]) }.joined(separator: "\t") + "\n"
        }
        try write(tsv, URL(fileURLWithPath: names.confounds))
    }

    /// Generates one scan of the cohort by subject id (`sub-07`), session and run (nil: none) into `names`.
    public static func writeScan(subject: String, session: String, run: String? = nil, options: Options, names: ScanFileNames) throws {
        let cohort = SynthCohort(seed: options.seed, null: options.null)
        guard let participant = cohort.participants.first(where: { $0.id == subject }) else {
            throw SynthError(message: "unknown subject '\(subject)'; the synthetic cohort has sub-01 to sub-\(cohort.participants.count)")
        }
        guard SynthCohort.sessions.contains(session) else {
            throw SynthError(message: "unknown session '\(session)'; the synthetic cohort has \(SynthCohort.sessions.joined(separator: " and "))")
        }
        let grid = SynthGrid(scale: options.scale)
        let atlas = SynthAtlas(grid: grid)
        try writeScanFiles(participant: participant, session: session, run: run, grid: grid, atlas: atlas,
                           mask: NIfTIImage(shape: grid.shape, affine: grid.affine, data: grid.mask.map { $0 ? Float(1) : 0 }, code: 4),
                           seed: options.seed, names: names)
    }

    /// Writes the cohort-level files: participants.tsv and .json, the truth table, the atlas and its labels.
    public static func writeCohortFiles(options: Options, participantsTSV: String, participantsJSON: String, truthTSV: String,
                                        atlas atlasPath: String, atlasLabels: String) throws {
        let cohort = SynthCohort(seed: options.seed, null: options.null)
        try write(cohort.participantsTSV(cohort.participants), URL(fileURLWithPath: participantsTSV))
        try write(json(participantsSidecar(null: options.null)), URL(fileURLWithPath: participantsJSON))
        try write(cohort.truthTSV(cohort.participants), URL(fileURLWithPath: truthTSV))
        let grid = SynthGrid(scale: options.scale)
        let atlas = SynthAtlas(grid: grid)
        try NIfTIFile.write(NIfTIImage(shape: grid.shape, affine: grid.affine, data: atlas.labels.map { Float($0) }, code: 4),
                            to: atlasPath, options: NIfTIWriteOptions(datatype: .uint8))
        try write(SynthAtlas.tsv, URL(fileURLWithPath: atlasLabels))
    }

    static func participantsSidecar(null: Bool) -> [String: BIDSColumn] {
        let effects = null
            ? "None: --null cohort. Every planted coupling is 0.25 + 0.05 n for every subject and session."
            : "Left LBA-left precuneus coupling: anxious baseline 0.95 f (+0.05 n; responders ~0.66, non-responders ~0.19), falling to 0.10 at day 13 in responders only; non-anxious 0.25. Right CMA-right MTG coupling: anxious 0.10, non-anxious 0.55. f = MADRS improvement fraction. Truth per scan in synth_truth.tsv."
        return [
            "participant_id": BIDSColumn(description: "Subject label"),
            "group": BIDSColumn(description: "Depression subtype", levels: ["anxious": "anxious depression (31)", "nonanxious": "non-anxious depression (18)"]),
            "responder": BIDSColumn(description: "Response to six ketamine infusions: MADRS reduction >= 50% at day 13",
                                    levels: ["responder": "responder", "nonresponder": "non-responder"]),
            "age": BIDSColumn(description: "Age", units: "years"),
            "sex": BIDSColumn(description: "Sex", levels: ["F": "female", "M": "male"]),
            "madrs_baseline": BIDSColumn(description: "MADRS total score at baseline"),
            "madrs_day13": BIDSColumn(description: "MADRS total score at day 13"),
            "madrs_change_pct": BIDSColumn(description: "(madrs_day13 - madrs_baseline) / madrs_baseline x 100; negative is improvement", units: "%"),
            "PlantedEffects": BIDSColumn(description: effects),
        ]
    }

    /// `value` as JSON text (`OutputJSON`) with a final newline.
    /// - Throws: `SynthError` if it cannot be written (a NaN, say).
    static func json<T: Encodable>(_ value: T) throws -> String {
        do {
            return String(decoding: try OutputJSON.encode(value, name: "synthetic JSON"), as: UTF8.self) + "\n"
        } catch {
            throw SynthError(message: "\(error)")
        }
    }

    /// Writes a text file (atomically). - Throws: `SynthError` naming the file and the reason.
    static func write(_ text: String, _ url: URL) throws {
        do {
            try Data(text.utf8).write(to: url, options: .atomic)
        } catch {
            throw SynthError(message: "cannot write \(url.path): \(ErrorReason.of(error))")
        }
    }

    /// Creates a folder and its parents. - Throws: `SynthError` naming the folder and the reason.
    static func makeFolder(_ url: URL) throws {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw SynthError(message: "cannot create the folder \(url.path): \(ErrorReason.of(error))")
        }
    }
}

/// An error from the synthetic cohort generator.
public struct SynthError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}
