import Foundation
import XCTest

/// pipelines/ketamine-amygdala.json, the motivating study's spec for real fMRIPrep derivatives,
/// runs end to end on a small synthetic study laid out the way its README section asks:
/// participants.tsv and derivatives/fmriprep at the root, atlases in atlases/.
final class KetamineSpecTests: XCTestCase {
    func testTheStudySpecRunsOnFMRIPrepDerivatives() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-ketamine-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: root) }
        // Three anxious responders, three anxious non-responders, three non-anxious.
        let subjects = ["sub-01", "sub-02", "sub-03", "sub-04", "sub-09", "sub-12", "sub-06", "sub-07", "sub-13"]
        let synth = try runPipe(["synth", "--out", root.path, "--subjects"] + subjects)
        XCTAssertEqual(synth.status, 0, synth.stderr)
        let atlases = root.appendingPathComponent("atlases")
        try FileManager.default.createDirectory(at: atlases, withIntermediateDirectories: true)
        let atlas = root.appendingPathComponent("atlas/atlas-synth_space-MNI152NLin2009cAsym_res-4mm_dseg")
        for name in ["amygdala_subregions", "peak_labels"] {
            try FileManager.default.copyItem(at: atlas.appendingPathExtension("nii.gz"), to: atlases.appendingPathComponent("\(name)_2mm.nii.gz"))
            try FileManager.default.copyItem(at: atlas.appendingPathExtension("tsv"), to: atlases.appendingPathComponent("\(name).tsv"))
        }
        let spec = root.appendingPathComponent("ketamine-amygdala.json")
        try FileManager.default.copyItem(at: packageRoot.appendingPathComponent("pipelines/ketamine-amygdala.json"), to: spec)

        // The synthetic runs are 120 volumes (4 min); with 5 dummy scans, scrubbing, 24P+WM/CSF and
        // the 0.01–0.1 Hz band they keep about 8 residual degrees of freedom, below the default
        // min_dof of 10 (the study's real runs are longer), so the test lowers the floor.
        var args = ["run", spec.path, "--quiet", "--set", "stages.clean.min_dof=5"]
        for stage in ["responders_baseline", "anxiety_baseline", "improvement_baseline", "responders_change"] {
            args += ["--set", "stages.\(stage).permutations=100"]
        }
        let run = try runPipe(args)
        XCTAssertEqual(run.status, 0, run.stderr)
        let out = root.appendingPathComponent("derivatives/pipe-ketamine-amygdala")
        let stages = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { !["dataset_description.json", "methods.md", "references.bib"].contains($0) }.sorted()
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("dataset_description.json").path))
        XCTAssertEqual(stages, ["anxiety_baseline", "anxiety_followup", "connectivity", "improvement_baseline", "report", "responders_baseline",
                                "responders_change", "responders_followup"])
        // The report names every analysis it was given.
        let report = try String(contentsOf: out.appendingPathComponent("report/index.html"), encoding: .utf8)
        for stage in ["responders_baseline", "anxiety_baseline", "improvement_baseline", "responders_change", "responders_followup", "anxiety_followup"] {
            XCTAssertTrue(report.contains(">\(stage) <small>"), stage)
        }
        // The GRF "as published" outputs sit next to the permutation ones.
        let group = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("responders_baseline").path)
        XCTAssertTrue(group.contains { $0.hasSuffix("_stat-z_desc-grfThresholded_statmap.nii.gz") })
        XCTAssertTrue(group.contains { $0.hasSuffix("_stat-logpFWE_desc-tfce_statmap.nii.gz") })
        let change = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("responders_change").path)
        XCTAssertTrue(change.contains { $0.contains("_group-responder_contrast-mean_stat-t") })

        // Nothing changed: nothing runs.
        let again = try runPipe(args.filter { $0 != "--quiet" })
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue((again.stdout + again.stderr).contains("0 ran"), again.stdout + again.stderr)
    }
}
