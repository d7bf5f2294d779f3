import Foundation
import NIfTI
import XCTest
@testable import Connectivity

final class InputsTests: XCTestCase {
    private func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-inputs-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func confounds(_ text: String) throws -> ConfoundsTable {
        let url = try temporaryFolder().appendingPathComponent("sub-01_desc-confounds_timeseries.tsv")
        try Data(text.utf8).write(to: url)
        return try ConfoundsTable.read(url.path)
    }

    func testConfoundsTableReadsNAAndFillsLeadingRows() throws {
        let table = try confounds("trans_x\ttrans_x_derivative1\tcsf\n0.1\tn/a\t5\n0.3\t0.2\t6\n0.2\t-0.1\t7\n")
        XCTAssertEqual(table.rowCount, 3)
        XCTAssertTrue(table.columns["trans_x_derivative1"]![0].isNaN)
        XCTAssertEqual(try table.selecting(["trans_x_derivative1", "csf"]), [[0.2, 0.2, -0.1], [5, 6, 7]])
    }

    func testMissingConfoundColumnNamesFileAndColumn() throws {
        let table = try confounds("trans_x\ttrans_y\n1\t2\n")
        XCTAssertThrowsError(try table.selecting(["white_matter"])) { error in
            let e = error as! InputError
            XCTAssertEqual(e.field, "white_matter")
            XCTAssertTrue(e.description.contains("sub-01_desc-confounds_timeseries.tsv"))
        }
        XCTAssertThrowsError(try ConfoundStrategy("24P").columns(in: table)) { error in
            XCTAssertEqual((error as! InputError).field, "trans_x_derivative1")
        }
    }

    func testReadingOnlySomeColumnsKeepsTheirValuesAndTheRowCount() throws {
        let url = try temporaryFolder().appendingPathComponent("c.tsv")
        try Data("trans_x\tframewise_displacement\tcsf\n0.1\tn/a\tx\n0.3\t0.2\t6\n".utf8).write(to: url)
        XCTAssertThrowsError(try ConfoundsTable.read(url.path)) { XCTAssertEqual(($0 as! InputError).field, "csf") }
        // The spec check's motion foresight: the motion columns only, the others' cells unread.
        let some = try ConfoundsTable.read(url.path, only: ["framewise_displacement", "trans_x", "rot_x"])
        XCTAssertEqual(some.names, ["trans_x", "framewise_displacement"])
        XCTAssertEqual(some.rowCount, 2)
        XCTAssertEqual(some.columns["trans_x"], [0.1, 0.3])
        XCTAssertTrue(some.columns["framewise_displacement"]![0].isNaN && some.columns["framewise_displacement"]![1] == 0.2)
        XCTAssertNil(some.columns["csf"])
        XCTAssertThrowsError(try ConfoundsTable.read(url.path, only: ["csf"])) { XCTAssertTrue("\($0)".contains("line 2 holds 'x'"), "\($0)") }
        // A headerless file is told by its first line that is neither blank nor a comment.
        let afni = try temporaryFolder().appendingPathComponent("motion.1D")
        try Data("# 3dvolreg\r\n\r\n1 2 3\r\n4 5 6\r\n".utf8).write(to: afni)
        let numbered = try ConfoundsTable.read(afni.path)
        XCTAssertEqual(numbered.names, ["col_1", "col_2", "col_3"])
        XCTAssertEqual(numbered.columns["col_2"], [2, 5])
        XCTAssertEqual(try ConfoundsTable.read(afni.path, only: ["col_3"]).names, ["col_3"])
    }

    func testMalformedConfoundsAreRejected() throws {
        XCTAssertThrowsError(try confounds("a\tb\n1\n")) { XCTAssertTrue("\($0)".contains("line 2")) }
        XCTAssertThrowsError(try confounds("a\tb\n1\tx\n")) { XCTAssertEqual(($0 as! InputError).field, "b") }
        XCTAssertThrowsError(try confounds("")) { XCTAssertTrue("\($0)".contains("empty")) }
    }

    func testStrategiesExpandToFMRIPrepColumns() throws {
        let motion = ConfoundStrategy.expanded(ConfoundStrategy.motion)
        let header = (motion + ["white_matter", "csf", "global_signal", "a_comp_cor_00", "a_comp_cor_01", "a_comp_cor_02", "cosine00", "cosine01"]).joined(separator: "\t")
        let row = Array(repeating: "1", count: motion.count + 8).joined(separator: "\t")
        let table = try confounds(header + "\n" + row + "\n")
        XCTAssertEqual(try ConfoundStrategy("6P").columns(in: table).count, 6)
        let dpabi = try ConfoundStrategy("24P+wm_csf").columns(in: table)
        XCTAssertEqual(dpabi.count, 26)
        XCTAssertEqual(Array(dpabi.suffix(2)), ["white_matter", "csf"])
        // aCompCor components are chosen by the sidecar's Mask metadata; without it, an error (issue 14, defect 8).
        XCTAssertThrowsError(try ConfoundStrategy("acompcor:2+cosine").columns(in: table)) { XCTAssertTrue("\($0)".contains("JSON sidecar is missing"), "\($0)") }
        let combined = #"{"Method": "aCompCor", "Mask": "combined"}"#
        try Data("{\"a_comp_cor_00\": \(combined), \"a_comp_cor_01\": \(combined), \"a_comp_cor_02\": \(combined)}".utf8)
            .write(to: URL(fileURLWithPath: ACompCorSelection.sidecarPath(of: table.path)))
        XCTAssertEqual(try ConfoundStrategy("acompcor:2+cosine").columns(in: table), ["a_comp_cor_00", "a_comp_cor_01", "cosine00", "cosine01"])
        XCTAssertEqual(try ConfoundStrategy("a_comp_cor_0*+gsr+6P+trans_x").columns(in: table).count, 3 + 1 + 6)
        XCTAssertThrowsError(try ConfoundStrategy("acompcor:x").columns(in: table))
        XCTAssertThrowsError(try ConfoundStrategy("nothing_*").columns(in: table))
    }

    func testDiscoversSynthCohortLayout() throws {
        let root = try temporaryFolder()
        _ = try SynthDataset.generate(to: root.path, options: .init(subjects: ["sub-02", "sub-05"]))
        let fmriprep = root.appendingPathComponent("derivatives/fmriprep").path
        let scans = try FMRIPrepLayout.discover(root: fmriprep, space: "MNI152NLin2009cAsym", task: "rest")
        XCTAssertEqual(scans.map(\.prefix), ["sub-02_ses-baseline_task-rest", "sub-02_ses-day13_task-rest",
                                             "sub-05_ses-baseline_task-rest", "sub-05_ses-day13_task-rest"])
        XCTAssertTrue(scans.allSatisfy { $0.mask != nil && $0.confounds != nil && $0.sidecar != nil })
        XCTAssertEqual(try FMRIPrepLayout.repetitionTime(sidecar: scans[0].sidecar!), 2)
        let day13 = try FMRIPrepLayout.discover(root: fmriprep, space: "MNI152NLin2009cAsym", task: "rest", subjects: ["05"], sessions: ["ses-day13"])
        XCTAssertEqual(day13.map(\.prefix), ["sub-05_ses-day13_task-rest"])
        XCTAssertThrowsError(try FMRIPrepLayout.discover(root: fmriprep, space: "MNI152NLin6Asym", task: "rest")) {
            XCTAssertTrue("\($0)".contains("space-MNI152NLin6Asym"))
        }
        let table = try ConfoundsTable.read(scans[0].confounds!)
        XCTAssertEqual(try ConfoundStrategy("24P+wm_csf+gsr+a_comp_cor_0*+cosine").columns(in: table).count, 24 + 2 + 1 + 5 + 3)
    }

    func testSidecarTRErrors() throws {
        let folder = try temporaryFolder()
        for (body, needle) in [("{}", "missing"), ("{\"RepetitionTime\": 2000}", "milliseconds"), ("{\"RepetitionTime\": -1}", "positive"),
                             ("{\"RepetitionTime\": \"2\"}", "RepetitionTime: is the text \"2\" (a number in quotes?); expected a positive number of seconds"),
                             ("{\"RepetitionTime\": null}", "RepetitionTime: is null;")] {
            let url = folder.appendingPathComponent("bold.json")
            try Data(body.utf8).write(to: url)
            XCTAssertThrowsError(try FMRIPrepLayout.repetitionTime(sidecar: url.path)) { XCTAssertTrue("\($0)".contains(needle), "\($0)") }
        }
    }

    /// nilearn's sphere rule: r = 3.99 mm gives 27 voxels on a 2 mm grid (a 3x3x3 cube minus
    /// nothing: corners are at 3.46 mm), r = 4.0 gives 33 (the 6 face neighbours at 4 mm join).
    func testSphereInclusionMatchesNilearnCounts() {
        let affine = Affine(rows: [[2, 0, 0, -20], [0, 2, 0, -20], [0, 0, 2, -20]])
        let shape = [21, 21, 21]
        XCTAssertEqual(SeedGeometry.sphere(centre: [0, 0, 0], radius: 3.99, shape: shape, affine: affine).count, 27)
        XCTAssertEqual(SeedGeometry.sphere(centre: [0, 0, 0], radius: 4.0, shape: shape, affine: affine).count, 33)
        // A radius smaller than a voxel still gives the nearest voxel (round half to even).
        XCTAssertEqual(SeedGeometry.sphere(centre: [1, 1, 1], radius: 0.1, shape: shape, affine: affine), [10 + 21 * (10 + 21 * 10)])
        XCTAssertEqual(SeedGeometry.sphere(centre: [3, 0, 0], radius: 0.1, shape: shape, affine: affine), [12 + 21 * (10 + 21 * 10)])
        // Outside the grid: nothing.
        XCTAssertTrue(SeedGeometry.sphere(centre: [500, 0, 0], radius: 5, shape: shape, affine: affine).isEmpty)
    }

    func testNearestNeighbourResamplingBetweenGrids() {
        // A 2 mm label image resampled to a 4 mm grid covering the same space.
        let fine = Affine(rows: [[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0]])
        let coarse = Affine(rows: [[4, 0, 0, 0], [0, 4, 0, 0], [0, 0, 4, 0]])
        var labels = [Float](repeating: 0, count: 8 * 8 * 8)
        for k in 0..<8 { for j in 0..<8 { for i in 0..<8 { labels[i + 8 * (j + 8 * k)] = Float(i / 4 + 1) } } }
        let out = SeedGeometry.resampleNearest(labels, shape: [8, 8, 8], affine: fine, to: [4, 4, 4], affine: coarse)
        for k in 0..<4 { for j in 0..<4 { for i in 0..<4 { XCTAssertEqual(out[i + 4 * (j + 4 * k)], Float((2 * i) / 4 + 1)) } } }
        // No overlap at all: everything 0.
        let far = Affine(rows: [[4, 0, 0, 1000], [0, 4, 0, 0], [0, 0, 4, 0]])
        XCTAssertTrue(SeedGeometry.resampleNearest(labels, shape: [8, 8, 8], affine: fine, to: [4, 4, 4], affine: far).allSatisfy { $0 == 0 })
        // A point beyond any Int (a lying translation) or not finite is outside, not a trap.
        let absurd = Affine(rows: [[4, 0, 0, 1e300], [0, 4, 0, 0], [0, 0, 4, 0]])
        XCTAssertTrue(SeedGeometry.resampleNearest(labels, shape: [8, 8, 8], affine: fine, to: [4, 4, 4], affine: absurd).allSatisfy { $0 == 0 })
        let nan = Affine(rows: [[4, 0, 0, .nan], [0, 4, 0, 0], [0, 0, 4, 0]])
        XCTAssertTrue(SeedGeometry.resampleNearest(labels, shape: [8, 8, 8], affine: fine, to: [4, 4, 4], affine: nan).allSatisfy { $0 == 0 })
        // A 2-D image is one voxel deep: its z = 0 plane is found.
        let plane = SeedGeometry.resampleNearest(Array(labels.prefix(64)), shape: [8, 8], affine: fine, to: [4, 4, 4], affine: coarse)
        XCTAssertEqual(plane.count, 64)
        for j in 0..<4 { for i in 0..<4 { XCTAssertEqual(plane[i + 4 * j], Float((2 * i) / 4 + 1)) } }
        XCTAssertTrue(plane[16...].allSatisfy { $0 == 0 })
    }
}
