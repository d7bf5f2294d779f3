import Foundation
import XCTest
import TestSupport
@testable import NIfTI

/// Cross-checks against nibabel (and nifti_tool), on files the tests generate.
///
/// Needs a Python with nibabel (see `crossCheckPython` in TestSupport).
final class NibabelCrossCheckTests: XCTestCase {
    static func python() throws -> String { try crossCheckPython(modules: ["nibabel"]) }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try runProcess(executable, arguments)
    }

    private func readF64(_ url: URL) throws -> [Double] { try readFloat64(url) }

    private func writeF64(_ values: [Double], _ url: URL) throws { try writeFloat64(values, to: url) }

    /// Files written by nibabel read identically: data, affine, TR, scaling and header fields.
    /// Covers every datatype, both byte orders, .nii/.nii.gz, NIfTI-2, slope/intercept, qform-only,
    /// sform-only, neither, qfac -1, oblique, extensions, 2D-7D, .hdr/.img pairs.
    func testFilesWrittenByNibabelReadIdentically() throws {
        let python = try Self.python()
        let folder = try temporaryFolder(self)
        let script = packageRoot.appendingPathComponent("Tests/CrossCheck/nibabel_fixtures.py").path
        let made = try Self.run(python, [script, folder.path])
        XCTAssertEqual(made.status, 0, made.output)

        let cases = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }.sorted()
        XCTAssertGreaterThanOrEqual(cases.count, 100, "the fixture script should write 100+ cases")
        for name in cases {
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent(name))) as! [String: Any]
            let caseName = String(name.dropLast(5))
            let path = folder.appendingPathComponent(json["file"] as! String).path
            let image = try NIfTIFile.read(path, as: Double.self)
            let info = try NIfTIFile.readHeader(path)
            let h = image.header
            XCTAssertEqual(image.shape, json["shape"] as! [Int], caseName)
            XCTAssertEqual(Int(h.datatypeCode), json["datatype"] as! Int, caseName)
            XCTAssertEqual(h.version.rawValue, json["nifti_version"] as! Int, caseName)
            XCTAssertEqual(info.byteOrder.rawValue, json["endian"] as! String, caseName)
            XCTAssertTrue(image.affine.isClose(to: Affine(rows: json["affine"] as! [[Double]]), tolerance: 1e-6),
                          "\(caseName): affine \(image.affine) vs nibabel \(json["affine"]!)")
            XCTAssertEqual(h.orientation, json["axcodes"] as! String, caseName)
            let tr = json["tr_seconds"] as? Double
            XCTAssertEqual(image.repetitionTime == nil, tr == nil, "\(caseName): TR \(String(describing: image.repetitionTime))")
            if let tr, let ours = image.repetitionTime { XCTAssertEqual(ours, tr, accuracy: tr * 1e-9, caseName) }
            let slope = json["slope"] as? Double ?? 1, inter = json["inter"] as? Double ?? 0
            // (JSON text round trips a double to within an ulp, hence the tiny tolerance.)
            XCTAssertEqual(h.scaling?.slope ?? 1, slope, accuracy: abs(slope) * 1e-15, caseName)
            XCTAssertEqual(h.scaling?.intercept ?? 0, inter, accuracy: abs(inter) * 1e-15, caseName)
            XCTAssertEqual(info.extensions.map { Int($0.code) }, json["extensions"] as! [Int], caseName)
            XCTAssertEqual(Int(h.voxOffset), json["vox_offset"] as! Int, caseName)
            XCTAssertEqual(Int(h.intentCode), json["intent_code"] as! Int, caseName)
            XCTAssertEqual(h.descrip, json["descrip"] as! String, caseName)
            XCTAssertEqual(Int(h.dimInfo), json["dim_info"] as! Int, caseName)
            XCTAssertEqual(Int(h.xyztUnits), json["xyzt_units"] as! Int, caseName)

            let expected = try readF64(folder.appendingPathComponent(caseName + ".f64"))
            XCTAssertEqual(image.data.count, expected.count, caseName)
            var mismatches = 0
            for (a, b) in zip(image.data, expected) where !(a == b || (a.isNaN && b.isNaN)) { mismatches += 1 }
            XCTAssertEqual(mismatches, 0, "\(caseName): \(mismatches) voxels differ from nibabel's get_fdata()")
            let floats = try NIfTIFile.read(path, as: Float.self).data
            XCTAssertTrue(zip(floats, expected).allSatisfy { $0 == Float($1) || ($0.isNaN && $1.isNaN) }, "\(caseName): float32 read")
        }
    }

    /// Files written by pipe load in nibabel with identical affine and data, without warnings, and
    /// pass nifti_tool's header and image checks and a `-copy_im` round trip.
    func testFilesWrittenByPipeLoadInNibabelAndNiftiTool() throws {
        let python = try Self.python()
        let folder = try temporaryFolder(self)
        var written = 0
        func record(_ name: String, file: String, shape: [Int], datatype: NIfTIDatatype, affine: Affine,
                    tr: Double?, slope: Double?, inter: Double?, values: [Double]) throws {
            let json: [String: Any] = [
                "file": file, "shape": shape, "datatype": Int(datatype.rawValue), "affine": affine.rows,
                "tr_seconds": tr as Any? ?? NSNull(), "slope": slope as Any? ?? NSNull(), "inter": inter as Any? ?? NSNull(),
            ]
            try JSONSerialization.data(withJSONObject: json).write(to: folder.appendingPathComponent(name + ".json"))
            try writeF64(values, folder.appendingPathComponent(name + ".f64"))
            written += 1
        }

        let shape = [6, 5, 4]
        let affine = Affine(rows: [[-2, 0, 0, 90], [0, 2, 0, -126], [0, 0, 2, -72]])
        var rng = SplitMix64(seed: 11)
        for datatype in NIfTIDatatype.supported {
            for order in [ByteOrder.little, .big] {
                for suffix in [".nii", ".nii.gz"] {
                    for version in [NIfTIHeader.Version.nifti1, .nifti2] {
                        let name = "pipe_\(datatype)_\(order)_v\(version.rawValue)\(suffix == ".nii" ? "" : "_gz")"
                        let range: ClosedRange<Float> = datatype.isInteger ? ((datatype.integerRange!.lowerBound < 0) ? -100...100 : 0...200) : -1e4...1e4
                        var data = (0..<120).map { _ in Float.random(in: range, using: &rng) }
                        if datatype.isInteger { data = data.map { $0.rounded() } } else { data[3] = .nan }
                        try NIfTIFile.write(NIfTIImage(shape: shape, affine: affine, data: data), to: folder.appendingPathComponent(name + suffix).path,
                                            options: NIfTIWriteOptions(datatype: datatype, byteOrder: order, version: version))
                        try record(name, file: name + suffix, shape: shape, datatype: datatype, affine: affine, tr: nil,
                                   slope: nil, inter: nil, values: data.map(Double.init))
                    }
                }
            }
        }
        // int16 with explicit scaling, via the raw writer.
        var header = makeHeader(shape: shape, datatype: .int16)
        header.sclSlope = 0.5
        header.sclInter = -3
        let raw: [Int16] = (0..<120).map { Int16($0 * 250 - 15000) }
        try NIfTIFile.writeRaw(header: header, bytes: raw.withUnsafeBytes { Array($0) }, to: folder.appendingPathComponent("pipe_scaled.nii.gz").path)
        try record("pipe_scaled", file: "pipe_scaled.nii.gz", shape: shape, datatype: .int16, affine: header.affine, tr: nil,
                   slope: 0.5, inter: -3, values: raw.map { Double($0) * 0.5 - 3 })
        // 4D with a TR, a rotated (rigid, oblique) affine, and an LPS orientation.
        let angle = 15.0 * Double.pi / 180
        let rotated = Affine(rows: [[2 * cos(angle), -2.5 * sin(angle), 0, -30], [2 * sin(angle), 2.5 * cos(angle), 0, 12], [0, 0, 3, -40]])
        let lps = Affine(rows: [[-2, 0, 0, 90], [0, -2, 0, 120], [0, 0, 2, -72]])
        for (name, aff, tr) in [("pipe_4d_tr", affine, 2.0), ("pipe_oblique", rotated, 0.72), ("pipe_lps", lps, 1.5)] {
            var data = [Float](repeating: 0, count: 6 * 5 * 4 * 3)
            for i in data.indices { data[i] = Float(i % 97) / 7 }
            let image = NIfTIImage<Float>(shape: [6, 5, 4, 3], affine: aff, data: data, repetitionTime: tr)
            try NIfTIFile.write(image,
                                to: folder.appendingPathComponent(name + ".nii.gz").path)
            try record(name, file: name + ".nii.gz", shape: [6, 5, 4, 3], datatype: .float32, affine: aff, tr: tr,
                       slope: nil, inter: nil, values: data.map(Double.init))
        }

        let script = packageRoot.appendingPathComponent("Tests/CrossCheck/nibabel_verify.py").path
        let result = try Self.run(python, [script, folder.path])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("\(written) passed, 0 failed"), result.output)
    }
}
