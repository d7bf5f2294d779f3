import Foundation
import NIfTI
import PipelineEngine
import TestSupport
import XCTest
@testable import Connectivity

/// `clean` finds fMRIPrep files by entities (issue 14, defect 7), on a generated derivatives tree
/// with `acq-`, `dir-`, several runs, spaces and resolutions, a subject without runs and one
/// missing a file; and finds what pybids finds (Tests/CrossCheck/bids_discovery.py).
final class FMRIPrepDiscoveryTests: XCTestCase {
    private var folder: URL!
    private let mni = "MNI152NLin2009cAsym"

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-discovery-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { [folder] in try? FileManager.default.removeItem(at: folder!) }
        try makeTree()
    }

    private var root: URL { folder.appendingPathComponent("derivatives/fmriprep") }

    /// sub-01: acq-mb and acq-sb, dir-AP, runs 1 and 2, MNI at res-1 and res-2 and T1w, plus a
    /// task-nback run; sub-02: acq-mb, dir-PA, no run entity; sub-03: acq-mb, dir-AP, runs 1 and
    /// 2, run 2 without its confounds file.
    private func makeTree() throws {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try Data(#"{"Name": "fMRIPrep", "BIDSVersion": "1.8.0", "DatasetType": "derivative", "GeneratedBy": [{"Name": "fMRIPrep"}]}"#.utf8)
            .write(to: root.appendingPathComponent("dataset_description.json"))
        let affine = Affine(rows: [[-4, 0, 0, 4], [0, 4, 0, -4], [0, 0, 4, -4]])
        func run(_ subject: String, task: String = "rest", acq: String, dir: String, run: String?, confounds: Bool = true) throws {
            let func_ = root.appendingPathComponent("sub-\(subject)/ses-1/func")
            try FileManager.default.createDirectory(at: func_, withIntermediateDirectories: true)
            let stem = "sub-\(subject)_ses-1_task-\(task)_acq-\(acq)_dir-\(dir)" + (run.map { "_run-\($0)" } ?? "")
            for space in ["_space-\(mni)_res-1", "_space-\(mni)_res-2", "_space-T1w"] {
                try NIfTIFile.write(NIfTIImage(shape: [2, 2, 2, 3], affine: affine, data: (0..<24).map { Float($0) }, repetitionTime: 2),
                                    to: func_.appendingPathComponent(stem + space + "_desc-preproc_bold.nii.gz").path)
                try Data(#"{"RepetitionTime": 2}"#.utf8).write(to: func_.appendingPathComponent(stem + space + "_desc-preproc_bold.json"))
                try NIfTIFile.write(NIfTIImage(shape: [2, 2, 2], affine: affine, data: [Float](repeating: 1, count: 8)),
                                    to: func_.appendingPathComponent(stem + space + "_desc-brain_mask.nii.gz").path)
            }
            if confounds {
                try Data("trans_x\ttrans_y\n0\t0\n0.1\t0\n0\t0.1\n".utf8).write(to: func_.appendingPathComponent(stem + "_desc-confounds_timeseries.tsv"))
                try Data("{}".utf8).write(to: func_.appendingPathComponent(stem + "_desc-confounds_timeseries.json"))
            }
        }
        for acq in ["mb", "sb"] { for r in ["1", "2"] { try run("01", acq: acq, dir: "AP", run: r) } }
        try run("01", task: "nback", acq: "mb", dir: "AP", run: "1")
        try run("02", acq: "mb", dir: "PA", run: nil)
        try run("03", acq: "mb", dir: "AP", run: "1")
        try run("03", acq: "mb", dir: "AP", run: "2", confounds: false)
    }

    /// Writes a study whose clean stage reads the tree with `clean` parameters, cohort without runs.
    private func spec(_ clean: String, subjects: String = #"["01", "02", "03"]"#) throws -> URL {
        let url = folder.appendingPathComponent("study.json")
        try Data("""
            {"pipe": 1, "cohort": {"subjects": \(subjects), "sessions": ["1"]},
             "stages": {"clean": {"kind": "clean", "fmriprep": "derivatives/fmriprep"\(clean)}}}
            """.utf8).write(to: url)
        return url
    }

    private func load(_ url: URL) throws -> StudySpec {
        try SpecLoader(registry: StageRegistry(ConnectivityKinds.all)).load(url, overrides: [])
    }

    private func graphError(_ url: URL) throws -> String {
        do {
            _ = try TaskGraph(spec: try load(url), memo: nil)
        } catch let error as PipeError {
            return error.message
        }
        XCTFail("expected an error")
        return ""
    }

    func testRunsFoundOnDiskBecomeScansAndFilesAreFoundByEntities() throws {
        let study = try load(try spec(#", "acq": "mb", "res": "2""#, subjects: #"["01", "02"]"#))
        XCTAssertEqual(study.cohort.scans.map(\.label), ["sub-01_ses-1_run-1", "sub-01_ses-1_run-2", "sub-02_ses-1"])
        let graph = try TaskGraph(spec: study, memo: nil)
        let sources = graph.tasks.map { task in Dictionary(uniqueKeysWithValues: task.sources.map { ($0.name, URL(fileURLWithPath: $0.path).lastPathComponent) }) }
        XCTAssertEqual(sources[1], [
            "bold": "sub-01_ses-1_task-rest_acq-mb_dir-AP_run-2_space-\(mni)_res-2_desc-preproc_bold.nii.gz",
            "sidecar": "sub-01_ses-1_task-rest_acq-mb_dir-AP_run-2_space-\(mni)_res-2_desc-preproc_bold.json",
            "brain_mask": "sub-01_ses-1_task-rest_acq-mb_dir-AP_run-2_space-\(mni)_res-2_desc-brain_mask.nii.gz",
            "confounds": "sub-01_ses-1_task-rest_acq-mb_dir-AP_run-2_desc-confounds_timeseries.tsv",
        ])
        XCTAssertEqual(sources[2]["bold"], "sub-02_ses-1_task-rest_acq-mb_dir-PA_space-\(mni)_res-2_desc-preproc_bold.nii.gz")
        // Another space (T1w, which has no res entity).
        let t1w = try load(try spec(#", "acq": "sb", "space": "T1w""#, subjects: #"["01"]"#))
        XCTAssertEqual(try TaskGraph(spec: t1w, memo: nil).tasks.compactMap { $0.sources.first { $0.name == "bold" }?.path }.map { URL(fileURLWithPath: $0).lastPathComponent },
                       ["sub-01_ses-1_task-rest_acq-sb_dir-AP_run-1_space-T1w_desc-preproc_bold.nii.gz",
                        "sub-01_ses-1_task-rest_acq-sb_dir-AP_run-2_space-T1w_desc-preproc_bold.nii.gz"])
    }

    func testSeveralMatchesNameTheParameterThatChooses() throws {
        let message = try graphError(try spec(#", "res": "2""#, subjects: #"["01"]"#))
        XCTAssertTrue(message.contains("sub-01_ses-1_run-1: 2 BOLD files match sub-01 ses-1 run-1"), message)
        XCTAssertTrue(message.contains("_acq-mb_dir-AP_run-1_space-\(mni)_res-2_desc-preproc_bold.nii.gz, sub-01_ses-1_task-rest_acq-sb_"), message)
        XCTAssertTrue(message.contains("set acq to choose"), message)
        let both = try graphError(try spec("", subjects: #"["01"]"#))
        XCTAssertTrue(both.contains("4 BOLD files match") && both.contains("set acq or res to choose"), both)
    }

    func testAMissingFileListsTheFilesThatExist() throws {
        let message = try graphError(try spec(#", "acq": "mb", "res": "2""#))
        XCTAssertTrue(message.contains("sub-03_ses-1_run-2: confounds file not found"), message)
        XCTAssertTrue(message.contains("sub-03_ses-1_task-rest_acq-mb_dir-AP_run-1_desc-confounds_timeseries.tsv"), message)
        XCTAssertFalse(message.contains("sub-01"), message)
        let noBold = try graphError(try spec(#", "acq": "mb", "res": "3""#, subjects: #"["02"]"#))
        XCTAssertTrue(noBold.contains("sub-02_ses-1: BOLD file not found"), noBold)
        XCTAssertTrue(noBold.contains("the BOLD files there: sub-02_ses-1_task-rest_acq-mb_dir-PA_space-\(mni)_res-1_desc-preproc_bold.nii.gz"), noBold)
    }

    /// The same files as pybids 0.22 (`BIDSLayout.get` with the spec's entities, the others free).
    func testFindsWhatPybidsFinds() throws {
        let python = try crossCheckPython(modules: ["bids"])
        struct Q { var subject: String; var run: String?; var entities: [String: String] }
        var queries: [Q] = []
        for entities in [["acq": "mb", "res": "2"], ["acq": "sb", "res": "1"], ["acq": "mb", "space": "T1w"], ["res": "2"], ["dir": "PA", "res": "1"]] {
            for (subject, runs) in [("01", ["1", "2", "3"]), ("02", [nil]), ("03", ["1", "2"])] {
                for run in runs + ["*"] { queries.append(Q(subject: subject, run: run, entities: ["task": "rest", "space": mni].merging(entities) { _, b in b })) }
            }
        }
        let input = folder.appendingPathComponent("queries.json")
        let json: JSONValue = .object(["root": .string(root.path), "queries": .array(queries.map { q in
            .object(["subject": .string(q.subject), "session": .string("1"), "run": q.run.map { .string($0) } ?? .null,
                     "entities": .object(q.entities.mapValues { .string($0) }), "mask": .bool(true)])
        })])
        try Data(json.serialized(pretty: false).utf8).write(to: input)
        let result = try runProcess(python, [testPackageRoot.appendingPathComponent("Tests/CrossCheck/bids_discovery.py").path, input.path])
        XCTAssertEqual(result.status, 0, result.output)
        let lines = result.output.split(separator: "\n")
        let reference = try XCTUnwrap(JSONSerialization.jsonObject(with: Data((lines.last ?? "").utf8)) as? [[String: Any]], result.output)
        XCTAssertEqual(reference.count, queries.count)
        var compared = 0
        for (q, ref) in zip(queries, reference) {
            let query = FMRIPrepQuery(root: root.path, entities: q.entities)
            let what = "\(q.subject) run \(q.run ?? "none") \(q.entities)"
            let bolds = ref["bold"] as? [String] ?? []
            if q.run == "*" {
                let runs = (ref["runs"] as? [Any] ?? []).map { $0 as? String }
                XCTAssertEqual(query.runs(subject: q.subject, session: "1", directory: folder) ?? [], runs, what)
                continue
            }
            do {
                let found = try query.files(subject: q.subject, session: "1", run: q.run, mask: true, directory: folder)
                XCTAssertEqual(bolds, [URL(fileURLWithPath: found["bold"]!).lastPathComponent], what)
                for key in ["sidecar", "confounds", "brain_mask"] {
                    XCTAssertEqual(ref[key] as? [String], [URL(fileURLWithPath: found[key]!).lastPathComponent], "\(what) \(key)")
                }
            } catch let error as PipeError {
                // pipe refuses: pybids finds no BOLD file, several, or a companion not exactly once.
                let companions = ["sidecar", "confounds", "brain_mask"].map { (ref[$0] as? [String] ?? []).count }
                XCTAssertTrue(bolds.count != 1 || companions.contains { $0 != 1 }, "\(what): \(error.message) but pybids found \(ref)")
                for name in bolds where bolds.count > 1 { XCTAssertTrue(error.message.contains(name), "\(what): \(error.message)") }
            }
            compared += 1
        }
        XCTAssertGreaterThan(compared, 20)
    }
}
