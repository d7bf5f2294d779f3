import Foundation
import Numerics
import TestSupport
import XCTest
@testable import Connectivity

/// Headerless confounds files (issue 14, defect 5): SPM `rp_*.txt`, AFNI `.1D`, numeric CSV; and
/// cleaning with them against nilearn's `signal.clean` (Tests/CrossCheck/confounds_motion.py).
final class MotionFileTests: XCTestCase {
    private var folder: URL!
    static let t = 60

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-motion-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { [folder] in try? FileManager.default.removeItem(at: folder!) }
    }

    private func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// Seeded uniform numbers in [-0.5, 0.5).
    private struct Noise {
        var state: UInt64
        mutating func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53) - 0.5
        }
    }

    /// Six random-walk motion parameters (mm, then radians) for `t` volumes.
    private func motion(seed: UInt64 = 3) -> [[Double]] {
        var noise = Noise(state: seed)
        var row = [Double](repeating: 0, count: 6)
        return (0..<Self.t).map { _ in
            for c in 0..<6 { row[c] += (c < 3 ? 0.05 : 0.001) * noise.next() }
            return row
        }
    }

    /// SPM's `rp_*.txt` layout: `%16.7e` columns after two spaces, no header.
    private func writeSPM(_ rows: [[Double]], name: String = "rp_sub-01.txt") throws {
        let text = rows.map { row in row.map { "  " + String(format: "%.7e", $0) }.joined() + "\n" }.joined()
        try Data(text.utf8).write(to: URL(fileURLWithPath: path(name)))
    }

    /// AFNI 3dvolreg `-1Dfile` layout: roll pitch yaw (degrees) dS dL dP (mm), with a comment line.
    private func writeAFNI(_ rows: [[Double]], name: String = "dfile.r01.1D") throws {
        let degrees = 180 / Double.pi
        let text = "# roll pitch yaw dS dL dP\n" + rows.map { r in
            [r[5] * degrees, r[3] * degrees, r[4] * degrees, r[2], r[0], r[1]].map { String(format: "%.6f", $0) }.joined(separator: " ") + "\n"
        }.joined()
        try Data(text.utf8).write(to: URL(fileURLWithPath: path(name)))
    }

    func testSPMRealignmentParametersGetFMRIPrepMotionNamesAnd24P() throws {
        let rows = motion()
        try writeSPM(rows)
        let table = try ConfoundsTable.read(path("rp_sub-01.txt"))
        XCTAssertEqual(table.rowCount, Self.t)
        XCTAssertEqual(Array(table.names.prefix(6)), ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"])
        let p24 = try ConfoundStrategy("24P").columns(in: table)
        XCTAssertEqual(p24.count, 24)
        let selected = try table.selecting(["trans_x", "rot_z_derivative1", "rot_z_derivative1_power2"])
        XCTAssertEqual(selected[0][7], rows[7][0], accuracy: 1e-9)
        XCTAssertEqual(selected[1][7], rows[7][5] - rows[6][5], accuracy: 1e-9)
        XCTAssertEqual(selected[1][0], selected[1][1], "the first derivative row is n/a, filled from the second as for fMRIPrep's files")
        XCTAssertEqual(selected[2][3], pow(rows[3][5] - rows[2][5], 2), accuracy: 1e-12)
    }

    func testAFNIMotionIsMappedAndOtherHeaderlessFilesGetNumberedNames() throws {
        let rows = motion()
        try writeAFNI(rows)
        let afni = try ConfoundsTable.read(path("dfile.r01.1D"))
        XCTAssertEqual(afni.rowCount, Self.t, "the # line is a comment")
        let mapped = try afni.selecting(ConfoundStrategy.motion)
        for c in 0..<6 { XCTAssertEqual(mapped[c][9], rows[9][c], accuracy: 1e-5, ConfoundStrategy.motion[c]) }
        XCTAssertEqual(try ConfoundStrategy("24P").columns(in: afni).count, 24)

        // AFNI's motion_demean.1D (and any .1D not named dfile*) cannot be told apart by shape.
        try writeAFNI(rows, name: "motion_demean.1D")
        let other = try ConfoundsTable.read(path("motion_demean.1D"))
        XCTAssertEqual(other.names, (1...6).map { "col_\($0)" })
        XCTAssertThrowsError(try ConfoundStrategy("6P").columns(in: other)) {
            XCTAssertTrue("\($0)".contains("trans_x: confound column not found") && "\($0)".contains("col_1 to col_6"), "\($0)")
        }
        try Data("1,2.5,3\n4,5,-6e-1\r\n7,8,9\n".utf8).write(to: URL(fileURLWithPath: path("regressors.csv")))
        let csv = try ConfoundsTable.read(path("regressors.csv"))
        XCTAssertEqual(csv.names, ["col_1", "col_2", "col_3"])
        XCTAssertEqual(try csv.selecting(["col_3"])[0], [3, -0.6, 9])
        // A 5-column rp_ file is not SPM's motion; a ragged file names its line.
        try writeSPM(rows.map { Array($0.prefix(5)) }, name: "rp_short.txt")
        XCTAssertEqual(try ConfoundsTable.read(path("rp_short.txt")).names.last, "col_5")
        try Data("1 2 3\n4 5\n".utf8).write(to: URL(fileURLWithPath: path("ragged.txt")))
        XCTAssertThrowsError(try ConfoundsTable.read(path("ragged.txt"))) {
            XCTAssertTrue("\($0)".contains("line 2: has 2 numbers; the first row has 3"), "\($0)")
        }
        // A TSV with a header still reads as before.
        try Data("trans_x\tcsf\n0.1\t3\n0.2\tn/a\n".utf8).write(to: URL(fileURLWithPath: path("c.tsv")))
        XCTAssertEqual(try ConfoundsTable.read(path("c.tsv")).names, ["trans_x", "csf"])
    }

    /// pipe's `6P` and `24P` from an rp_ file and `6P` from a dfile give nilearn's cleaned signals.
    func testCleaningWithMotionFilesMatchesNilearn() throws {
        let python = try crossCheckPython()
        let rows = motion()
        try writeSPM(rows)
        try writeAFNI(rows)
        var noise = Noise(state: 9)
        let v = 12
        var signals = Matrix(rows: Self.t, columns: v)
        for r in 0..<Self.t { for c in 0..<v { signals[r, c] = 100 + 0.1 * Double(r) + noise.next() + 20 * rows[r][c % 6] } }
        try writeFloat64(signals.data, to: folder.appendingPathComponent("signals.f64"))
        let result = try runProcess(python, [testPackageRoot.appendingPathComponent("Tests/CrossCheck/confounds_motion.py").path, folder.path])
        XCTAssertEqual(result.status, 0, result.output)
        var options = SignalCleanOptions()
        options.detrend = true
        options.standardize = nil
        options.standardizeConfounds = true
        options.filter = nil
        options.repetitionTime = 2
        for (name, file, strategy) in [("spm_6p", "rp_sub-01.txt", "6P"), ("spm_24p", "rp_sub-01.txt", "24P"), ("afni_6p", "dfile.r01.1D", "6P")] {
            let table = try ConfoundsTable.read(path(file))
            let confounds = Matrix(columns: try table.selecting(try ConfoundStrategy(strategy).columns(in: table)))
            let cleaned = try SignalClean(options: options).clean(signals, confounds: confounds)
            let reference = try readFloat64(folder.appendingPathComponent("\(name).ref.f64"))
            XCTAssertEqual(reference.count, cleaned.data.count, name)
            let worst = zip(cleaned.data, reference).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThan(worst, 1e-6, "\(name): largest difference \(worst)")
        }
    }
}
