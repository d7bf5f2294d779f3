import Foundation
import NIfTI
import Numerics
import XCTest
@testable import Connectivity

final class ScanLoaderTests: XCTestCase {
    private var folder: URL!
    private let affine = Affine(rows: [[-4, 0, 0, 20], [0, 4, 0, -20], [0, 0, 4, -10]])

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-loader-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { [folder] in try? FileManager.default.removeItem(at: folder!) }
    }

    private func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// A 6x5x4 x T run whose voxel v at volume t holds 1000 + v + t.
    private func bold(volumes: Int = 10, tr: Double = 2, nan: Bool = false, name: String = "bold.nii.gz") throws -> String {
        var data = [Float](repeating: 0, count: 120 * volumes)
        for t in 0..<volumes { for v in 0..<120 { data[t * 120 + v] = Float(1000 + v + t) } }
        if nan { data[5] = .nan; data[120 * 3 + 7] = .infinity }
        try NIfTIFile.write(NIfTIImage(shape: [6, 5, 4, volumes], affine: affine, data: data, repetitionTime: tr), to: path(name))
        return path(name)
    }

    private func sidecar(_ tr: Double) throws -> String {
        try Data("{\"RepetitionTime\": \(tr)}".utf8).write(to: URL(fileURLWithPath: path("bold.json")))
        return path("bold.json")
    }

    private func mask(_ shape: [Int], _ affine: Affine, _ on: (Int) -> Bool) throws -> String {
        let n = shape.reduce(1, *)
        try NIfTIFile.write(NIfTIImage(shape: shape, affine: affine, data: (0..<n).map { on($0) ? Float(1) : 0 }), to: path("mask.nii.gz"),
                            options: NIfTIWriteOptions(datatype: .uint8))
        return path("mask.nii.gz")
    }

    func testMasksDropsDummyScansAndTrimsConfounds() throws {
        let b = try bold()
        let m = try mask([6, 5, 4], affine) { $0 % 2 == 0 }
        var tsv = "trans_x\tcsf\n"
        for t in 0..<10 { tsv += "\(Double(t) / 10)\t\(t)\n" }
        try Data(tsv.utf8).write(to: URL(fileURLWithPath: path("conf.tsv")))
        let scan = try ScanLoader.load(.init(bold: b, mask: m, sidecar: try sidecar(2), confounds: path("conf.tsv"), dummyScans: 3))
        XCTAssertEqual(scan.volumes, 7)
        XCTAssertEqual(scan.voxels.count, 60)
        XCTAssertEqual(scan.series.count, 7 * 60)
        XCTAssertEqual(scan.series[0], 1000 + 0 + 3)       // voxel 0 at original volume 3
        XCTAssertEqual(scan.series[60 + 1], 1000 + 2 + 4)  // voxel 2 at original volume 4
        XCTAssertEqual(scan.confounds?.columns["csf"], [3, 4, 5, 6, 7, 8, 9])
        XCTAssertEqual(scan.repetitionTime, 2)
    }

    func testCRLFConfoundsWithAByteOrderMarkLoadAsLF() throws {
        let b = try bold()
        var lines = ["trans_x\tframewise_displacement\tcsf"]
        for t in 0..<10 { lines.append("\(Double(t) / 10)\t\(t == 0 ? "n/a" : String(Double(t) / 4))\t\(t)") }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path("lf.tsv")))
        try Data([0xEF, 0xBB, 0xBF] + Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8)).write(to: URL(fileURLWithPath: path("crlf.tsv")))
        let lf = try ScanLoader.load(.init(bold: b, confounds: path("lf.tsv"), dummyScans: 2)).confounds!
        let crlf = try ScanLoader.load(.init(bold: b, confounds: path("crlf.tsv"), dummyScans: 2)).confounds!
        XCTAssertEqual(crlf.names, ["trans_x", "framewise_displacement", "csf"])
        XCTAssertEqual(crlf.rowCount, 8)
        XCTAssertEqual(try crlf.selecting(crlf.names), try lf.selecting(lf.names))
        XCTAssertEqual(try crlf.selecting(["csf"]), [[2, 3, 4, 5, 6, 7, 8, 9]])
        // The first row's n/a survives as NaN (it was "n/a\r" before), and fills as nilearn does.
        let full = try ConfoundsTable.read(path("crlf.tsv"))
        XCTAssertTrue(full.columns["framewise_displacement"]![0].isNaN)
        XCTAssertEqual(try full.selecting(["framewise_displacement"])[0][0], 0.25)
    }

    func testRepetitionTimeMismatchIsAnErrorUnlessASourceIsChosen() throws {
        let b = try bold(tr: 2.5)
        let s = try sidecar(2)
        XCTAssertThrowsError(try ScanLoader.load(.init(bold: b, sidecar: s))) { error in
            let e = error as! InputError
            XCTAssertEqual(e.field, "RepetitionTime")
            XCTAssertTrue(e.description.contains("2.5") && e.description.contains("tr_source"), e.description)
        }
        XCTAssertEqual(try ScanLoader.load(.init(bold: b, sidecar: s, repetitionTimeSource: .sidecar)).repetitionTime, 2)
        XCTAssertEqual(try ScanLoader.load(.init(bold: b, sidecar: s, repetitionTimeSource: .header)).repetitionTime, 2.5)
    }

    func testThreeDimensionalOrSingleVolumeInputIsRefused() throws {
        try NIfTIFile.write(NIfTIImage(shape: [6, 5, 4], affine: affine, data: [Float](repeating: 1, count: 120)), to: path("t1.nii.gz"))
        XCTAssertThrowsError(try ScanLoader.load(.init(bold: path("t1.nii.gz")))) { XCTAssertTrue("\($0)".contains("3-D image")) }
        let one = try bold(volumes: 1, name: "one.nii.gz")
        XCTAssertThrowsError(try ScanLoader.load(.init(bold: one))) { XCTAssertTrue("\($0)".contains("6x5x4x1"), "\($0)") }
        XCTAssertThrowsError(try ScanLoader.load(.init(bold: try bold(volumes: 4, name: "four.nii.gz"), dummyScans: 3))) {
            XCTAssertEqual(($0 as! InputError).field, "dummy_scans")
        }
    }

    func testMaskOnAnotherGridIsResampledAndNoOverlapIsAnError() throws {
        let b = try bold()
        // The same field of view at 2 mm: resampled by nearest neighbour.
        let fine = Affine(rows: [[-2, 0, 0, 20], [0, 2, 0, -20], [0, 0, 2, -10]])
        let m = try mask([12, 10, 8], fine) { _ in true }
        XCTAssertEqual(try ScanLoader.load(.init(bold: b, mask: m)).voxels.count, 120)
        // Far away: no overlap.
        let far = Affine(rows: [[-2, 0, 0, 500], [0, 2, 0, -20], [0, 0, 2, -10]])
        let away = try mask([12, 10, 8], far) { _ in true }
        XCTAssertThrowsError(try ScanLoader.load(.init(bold: b, mask: away))) { error in
            XCTAssertTrue("\(error)".contains("field of view"), "\(error)")
            XCTAssertEqual((error as! InputError).path, away)
        }
    }

    func testConfoundRowsMustMatchVolumes() throws {
        let b = try bold()
        try Data("csf\n1\n2\n".utf8).write(to: URL(fileURLWithPath: path("short.tsv")))
        XCTAssertThrowsError(try ScanLoader.load(.init(bold: b, confounds: path("short.tsv")))) {
            XCTAssertTrue("\($0)".contains("2 rows") && "\($0)".contains("10 volumes"), "\($0)")
        }
    }

    func testNonFiniteValuesAreZeroedAndCounted() throws {
        let scan = try ScanLoader.load(.init(bold: try bold(nan: true)))
        XCTAssertEqual(scan.nonFiniteVoxels, 2)
        XCTAssertTrue(scan.series.allSatisfy { $0.isFinite })
        XCTAssertEqual(scan.series[5], 0)
    }

    func testAnAllNaNScanIsAnErrorNamingTheFile() throws {
        let b = path("nan.nii.gz")
        try NIfTIFile.write(NIfTIImage(shape: [6, 5, 4, 10], affine: affine, data: [Float](repeating: .nan, count: 1200), repetitionTime: 2), to: b)
        for request in [ScanLoader.Request(bold: b), .init(bold: b, epiMask: true), .init(bold: b, smoothingFWHM: 6),
                        .init(bold: b, mask: try mask([6, 5, 4], affine) { $0 < 60 })] {
            XCTAssertThrowsError(try ScanLoader.load(request)) { error in
                let e = error as? InputError
                XCTAssertEqual(e?.path, b)
                XCTAssertEqual(e?.field, "data")
                XCTAssertTrue(e?.message.contains("is NaN or infinite") ?? false, "\(error)")
            }
        }
    }

    func testNoFiniteVoxelInsideTheMaskIsAnError() throws {
        // Finite outside the mask; inside, each voxel is NaN or infinite in one volume or another.
        var data = [Float](repeating: 1, count: 1200)
        for t in 0..<10 { for v in 0..<120 { data[t * 120 + v] = Float(1000 + v + t) } }
        for v in 0..<60 { data[(v % 10) * 120 + v] = v % 2 == 0 ? .nan : -.infinity }
        let b = path("holes.nii.gz")
        try NIfTIFile.write(NIfTIImage(shape: [6, 5, 4, 10], affine: affine, data: data, repetitionTime: 2), to: b)
        let inside = try mask([6, 5, 4], affine) { $0 < 60 }
        XCTAssertThrowsError(try ScanLoader.load(.init(bold: b, mask: inside))) { error in
            XCTAssertEqual((error as? InputError)?.path, b)
            XCTAssertTrue("\(error)".contains("every one of the 60 voxels inside the mask \(inside)"), "\(error)")
        }
        // One finite voxel in the mask is enough: it is loaded, the others are zeroed and counted.
        data[9 * 120 + 59] = 5
        try NIfTIFile.write(NIfTIImage(shape: [6, 5, 4, 10], affine: affine, data: data, repetitionTime: 2), to: b)
        let scan = try ScanLoader.load(.init(bold: b, mask: inside))
        XCTAssertEqual(scan.voxels.count, 60)
        XCTAssertEqual(scan.nonFiniteVoxels, 59)
        XCTAssertEqual(scan.series[2 * 60 + 59], 1059 + 2)
        XCTAssertEqual(scan.series[9 * 60 + 59], 5)
        XCTAssertEqual(scan.series[9 * 60 + 49], 0)   // voxel 49 was NaN at volume 9
    }

    func testSmoothedSeriesEqualsSmoothingTheWholeRunThenMasking() throws {
        // A 10x9x8 run with a blob of signal and noise, a NaN, and a mask that is a box's corner.
        let shape = [10, 9, 8], volumes = 6, n = shape.reduce(1, *)
        var state: UInt64 = 7
        func noise() -> Float { state = state &* 6364136223846793005 &+ 1442695040888963407; return Float(state >> 40) / Float(1 << 24) }
        var data = [Float](repeating: 0, count: n * volumes)
        for t in 0..<volumes {
            for v in 0..<n {
                let x = v % 10, y = (v / 10) % 9, z = v / 90
                let inside = (2...7).contains(x) && (2...6).contains(y) && (1...6).contains(z)
                data[t * n + v] = (inside ? 800 : 20) + 50 * noise()
            }
        }
        data[2 * n + 333] = .nan
        try NIfTIFile.write(NIfTIImage(shape: shape + [volumes], affine: affine, data: data, repetitionTime: 2), to: path("run.nii.gz"))
        let m = try mask(shape, affine) { v in (v % 10) >= 3 && (v / 10) % 9 <= 5 && v / 90 >= 2 }
        for epi in [false, true] {
            let scan = try ScanLoader.load(.init(bold: path("run.nii.gz"), mask: epi ? nil : m, dummyScans: 1, epiMask: epi, smoothingFWHM: 6))
            // Reference: nilearn's order on the whole grid (zero non-finite, mask on the unsmoothed run, smooth, mask).
            var whole = Array(data[n...]).map { $0.isFinite ? $0 : 0 }
            let keep: [Bool] = epi ? try EPIBrainMask().compute(whole, shape: shape + [volumes - 1])
                                   : (try NIfTIFile.read(m)).data.map { $0 > 0 }
            try GaussianSmoothing(fwhm: [6], voxelSize: affine.voxelSizes).smooth(&whole, shape: shape + [volumes - 1])
            let voxels = (0..<n).filter { keep[$0] }
            XCTAssertEqual(scan.voxels, voxels)
            let expected = (0..<(volumes - 1)).flatMap { t in voxels.map { whole[t * n + $0] } }
            XCTAssertEqual(scan.series.map(\.bitPattern), expected.map(\.bitPattern), epi ? "EPI mask" : "mask file")
            XCTAssertEqual(scan.nonFiniteVoxels, keep[333] ? 1 : 0)
        }
    }
}
