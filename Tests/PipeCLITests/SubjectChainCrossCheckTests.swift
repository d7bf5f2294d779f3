import Foundation
import XCTest
import TestSupport

/// The subject-level chain run by the built `pipe` (synth → clean → connectivity), compared with
/// the same analysis in nilearn (Tests/CrossCheck/nilearn_chain.py): seed series and z maps.
final class SubjectChainCrossCheckTests: XCTestCase {
    private func python() throws -> String { try crossCheckPython(modules: ["nibabel", "nilearn"]) }

    /// Three cleaning variants; the comparison runs in numpy and prints the max |z difference|
    /// inside the brain mask (also checking |tanh z − r| and that no map holds NaN or inf).
    func testZMapsMatchNilearnWithin1e4() throws {
        let py = try python()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-chain-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("data").path
        let synth = try runPipe(["synth", "--out", data, "--subjects", "sub-02"])
        XCTAssertEqual(synth.status, 0, synth.stderr)

        let fmriprep = "\(data)/derivatives/fmriprep"
        let atlas = "\(data)/atlas/atlas-synth_space-MNI152NLin2009cAsym_res-4mm_dseg.nii.gz"
        let variants: [(String, String, [String: Any])] = [
            ("band_24p_smooth", """
                "confounds": "24P+wm_csf", "smoothing_fwhm": 6, "filter": "butterworth", "high_pass": 0.01, "low_pass": 0.1, "dummy_scans": 2
                """, ["smoothing_fwhm": 6, "low_pass": 0.1, "high_pass": 0.01, "dummy_scans": 2, "columns": "24P+wm_csf"]),
            ("lowpass_6p", """
                "confounds": "6P+wm_csf", "filter": "butterworth", "high_pass": 0, "low_pass": 0.08
                """, ["smoothing_fwhm": 0, "low_pass": 0.08, "dummy_scans": 0, "columns": "6P+wm_csf"]),
            ("nofilter_detrend", """
                "confounds": "", "filter": "none", "smoothing_fwhm": 4
                """, ["smoothing_fwhm": 4, "dummy_scans": 0, "columns": ""]),
            // Standardised seeds: nilearn's seed maskers average the voxels, then clean and
            // standardise the average; the z maps and the seed series must match theirs.
            ("zscore_seed", """
                "confounds": "6P+wm_csf", "smoothing_fwhm": 6, "filter": "butterworth", "high_pass": 0.01, "low_pass": 0.1, "standardize": "zscore_sample"
                """, ["smoothing_fwhm": 6, "low_pass": 0.1, "high_pass": 0.01, "dummy_scans": 0, "columns": "6P+wm_csf", "standardize": "zscore_sample"]),
            ("psc_seed", """
                "confounds": "6P+wm_csf", "smoothing_fwhm": 6, "filter": "butterworth", "high_pass": 0.01, "low_pass": 0.1, "standardize": "psc"
                """, ["smoothing_fwhm": 6, "low_pass": 0.1, "high_pass": 0.01, "dummy_scans": 0, "columns": "6P+wm_csf", "standardize": "psc"]),
        ]
        // pipe runs each variant here; nilearn's reference and the comparison (about 30 s of one
        // core per variant, mostly its per-voxel filtfilt) run afterwards, one per core.
        var references: [(name: String, nilearn: [String], compare: [String])] = []
        for (name, cleanParams, reference) in variants {
            let study = folder.appendingPathComponent("\(name).json")
            try Data("""
                {"pipe": 1, "cache": "cache-\(name)", "outputs": "out-\(name)",
                 "cohort": {"subjects": ["02"], "sessions": ["baseline"]},
                 "stages": {
                   "clean": {"kind": "clean", "fmriprep": "\(fmriprep)", \(cleanParams)},
                   "connectivity": {"kind": "connectivity", "from": "clean", "atlas": "\(atlas)",
                     "atlas_labels": "\(atlas.replacingOccurrences(of: ".nii.gz", with: ".tsv"))",
                     "seeds": [{"name": "LBAleft", "label": "LBA_left"}, {"name": "PCC", "sphere": [0, -52, 26], "radius": 8}]}}}
                """.utf8).write(to: study)
            let result = try runPipe(["run", study.path, "--quiet"])
            XCTAssertEqual(result.status, 0, "\(name): \(result.stderr)")

            let func_ = "\(fmriprep)/sub-02/ses-baseline/func/sub-02_ses-baseline_task-rest"
            let motion = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"]
            let columns: [String]
            switch reference["columns"] as! String {
            case "24P+wm_csf": columns = motion.flatMap { [$0, $0 + "_derivative1", $0 + "_power2", $0 + "_derivative1_power2"] } + ["white_matter", "csf"]
            case "6P+wm_csf": columns = motion + ["white_matter", "csf"]
            default: columns = []
            }
            let config: [String: Any] = [
                "bold": "\(func_)_space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz",
                "mask": "\(func_)_space-MNI152NLin2009cAsym_desc-brain_mask.nii.gz",
                "confounds": "\(func_)_desc-confounds_timeseries.tsv", "confound_columns": columns,
                "dummy_scans": reference["dummy_scans"]!, "t_r": 2.0, "smoothing_fwhm": reference["smoothing_fwhm"]!,
                "detrend": true, "low_pass": reference["low_pass"] ?? NSNull(), "high_pass": reference["high_pass"] ?? NSNull(),
                "standardize": reference["standardize"] ?? false,
                "seeds": [["name": "LBAleft", "atlas": atlas, "label": 1], ["name": "PCC", "sphere": [0, -52, 26], "radius": 8]],
                "out_dir": folder.appendingPathComponent("nilearn-\(name)").path,
            ]
            let configURL = folder.appendingPathComponent("nilearn-\(name).json")
            try JSONSerialization.data(withJSONObject: config).write(to: configURL)
            let compare = """
                import nibabel as nib, numpy as np, sys
                out, ref = sys.argv[1], sys.argv[2]
                stem = out + "/connectivity/sub-02_ses-baseline_task-rest_space-MNI152NLin2009cAsym_seed-"
                mask = nib.load(sys.argv[3]).get_fdata() > 0
                worst = 0.0
                for seed in ["LBAleft", "PCC"]:
                    ours = nib.load(stem + seed + "_stat-z_connectivity.nii.gz").get_fdata()
                    theirs = nib.load(ref + "/" + seed + "_z.nii.gz").get_fdata()
                    assert np.isfinite(ours).all(), "NaN or inf in pipe's map"
                    worst = max(worst, float(np.abs(ours[mask] - theirs[mask]).max()))
                    r = nib.load(stem + seed + "_stat-r_connectivity.nii.gz").get_fdata()
                    worst = max(worst, float(np.abs(np.tanh(ours[mask]) - r[mask]).max()))
                # The seed series file, relative to the series' scale.
                import pandas as pd
                table = pd.read_csv(stem[:-len("seed-")] + "desc-seeds_timeseries.tsv", sep="\t")
                for seed in ["LBAleft", "PCC"]:
                    theirs = np.fromfile(ref + "/" + seed + "_seed.f64", dtype="<f8")
                    ours = table[seed].to_numpy()
                    scale = max(1.0, float(np.abs(theirs).max()))
                    worst = max(worst, float(np.abs(ours - theirs).max()) / scale)
                print(f"{worst:.3e}")
                """
            references.append((name, [packageRoot.appendingPathComponent("Tests/CrossCheck/nilearn_chain.py").path, configURL.path],
                               ["-c", compare, folder.appendingPathComponent("out-\(name)").path,
                                folder.appendingPathComponent("nilearn-\(name)").path, config["mask"] as! String]))
        }

        let jobs = references
        let outcomes = Outcomes(count: jobs.count)
        DispatchQueue.concurrentPerform(iterations: jobs.count) { i in
            let nilearn: Outcomes.Run = (try? runProcess(py, jobs[i].nilearn)) ?? (-1, "could not start \(py)")
            let compare: Outcomes.Run = nilearn.status == 0 ? ((try? runProcess(py, jobs[i].compare)) ?? (-1, "could not start \(py)")) : (-1, "no reference")
            outcomes.set(i, (nilearn, compare))
        }
        for (reference, outcome) in zip(jobs, outcomes.values) {
            let name = reference.name
            let (nilearn, compare) = try XCTUnwrap(outcome, name)
            XCTAssertEqual(nilearn.status, 0, "\(name): nilearn: \(nilearn.output)")
            XCTAssertEqual(compare.status, 0, "\(name): \(compare.output)")
            let worst = Double(compare.output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? .infinity
            XCTAssertLessThanOrEqual(worst, 1e-4, "\(name): max |z_pipe - z_nilearn| = \(compare.output)")
            print("subject chain \(name): max |z_pipe - z_nilearn| = \(compare.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }
}

/// The outcomes of the reference runs, filled from concurrent threads.
private final class Outcomes: @unchecked Sendable {
    typealias Run = (status: Int32, output: String)
    private let lock = NSLock()
    private var slots: [(nilearn: Run, compare: Run)?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ value: (nilearn: Run, compare: Run)) { lock.withLock { slots[i] = value } }
    var values: [(nilearn: Run, compare: Run)?] { lock.withLock { slots } }
}
