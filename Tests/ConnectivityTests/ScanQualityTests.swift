import Foundation
import NIfTI
import PipelineEngine
import TestSupport
import XCTest
@testable import Connectivity

/// The per-scan QC values `clean` records, against an independent numpy computation on the same
/// confounds and data.
final class ScanQualityTests: XCTestCase {
    func testQualityValuesMatchNumpy() throws {
        let python = try crossCheckPython(modules: ["numpy", "nibabel", "pandas"])
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-qc-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let t = 80, dummy = 2
        var state: UInt64 = 99
        func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53) - 0.5
        }
        var data = [Float](repeating: 0, count: 60 * t)
        for r in 0..<t { for v in 0..<60 { data[r * 60 + v] = Float(800 + 10 * Double(v % 7) + 6 * next() + 2 * sin(Double(r) / 4 + Double(v))) } }
        let bold = folder.appendingPathComponent("sub-01_task-rest_bold.nii.gz")
        try NIfTIFile.write(NIfTIImage(shape: [5, 4, 3, t], affine: Affine(rows: [[3, 0, 0, 0], [0, 3, 0, 0], [0, 0, 3, 0]]), data: data,
                                       repetitionTime: 2, code: 4), to: bold.path)
        var tsv = "trans_x\ttrans_y\ttrans_z\trot_x\trot_y\trot_z\tframewise_displacement\tstd_dvars\n"
        var motion = [[Double]](repeating: [0, 0, 0, 0, 0, 0], count: t)
        for r in 0..<t {
            for k in 0..<6 { motion[r][k] = (r > 0 ? motion[r - 1][k] : 0) + (k < 3 ? 0.05 : 0.001) * next() * (r == 40 ? 30 : 1) }
            var fd = "n/a"
            if r > 0 {
                var d = 0.0
                for k in 0..<6 { d += abs(motion[r][k] - motion[r - 1][k]) * (k < 3 ? 1 : 50) }
                fd = String(d)
            }
            tsv += motion[r].map { String($0) }.joined(separator: "\t") + "\t\(fd)\t\(r == 0 ? "n/a" : String(1 + next()))\n"
        }
        let confounds = folder.appendingPathComponent("confounds.tsv")
        try tsv.write(to: confounds, atomically: true, encoding: .utf8)

        func clean(_ params: String, _ name: String) throws -> (ScanQuality, URL) {
            let kind = CleanKind()
            let out = folder.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            let context = TaskContext(params: .object([:]), scope: .scan(subject: "01", session: nil, run: nil), inputs: [],
                                      sources: ["bold": bold, "confounds": confounds], outputDirectory: out, logFile: nil, cancellation: CancellationFlag())
            try kind.run(kind.decode(try JSONValue.parse(params)), context)
            var files: [String: URL] = [:]
            for name in try FileManager.default.contentsOfDirectory(atPath: out.path) { files[name] = out.appendingPathComponent(name) }
            return (try CleanedScan.read(files: files).info.quality, files.first { $0.key.hasSuffix("_timeseries.f32") }!.value)
        }
        let (q, series) = try clean(#"{"mask": "none", "dummy_scans": 2, "confounds": "6P", "high_pass": 0.01, "low_pass": 0.1, "scrub_fd": 0.3}"#, "scrubbed")
        // tSNR is over the volumes cleaning works on (censored ones interpolated): without
        // scrubbing, that is every volume after the dummy scans, as the reference computes it.
        let (unscrubbed, _) = try clean(#"{"mask": "none", "dummy_scans": 2, "confounds": "6P", "high_pass": 0.01, "low_pass": 0.1}"#, "plain")

        let script = """
            import sys, json, numpy as np, nibabel as nib, pandas as pd
            bold, conf, series, kept, dummy = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
            c = pd.read_csv(conf, sep="\\t", na_values="n/a").iloc[dummy:]
            fd = c["framewise_displacement"].to_numpy()[1:]
            raw = np.asarray(nib.load(bold).dataobj, dtype=np.float64).reshape(-1, nib.load(bold).shape[3], order="F").T[dummy:]
            tsnr = np.median(raw.mean(0) / raw.std(0))
            x = np.fromfile(series, dtype="<f4").reshape(kept, -1).astype(np.float64)
            d = x - x.mean(0)
            sd = x.std(0, ddof=1)
            rho = (d[1:] * d[:-1]).sum(0) / (d * d).sum(0)
            predicted = (sd * np.sqrt(2 * np.maximum(0, 1 - rho))).mean()
            dvars = np.sqrt((np.diff(x, axis=0) ** 2).mean(1)) / predicted
            print(json.dumps({"meanFD": fd.mean(), "medianFD": float(np.median(fd)), "maxFD": fd.max(),
                              "stdDVARSBefore": c["std_dvars"].to_numpy()[1:].mean(), "stdDVARSAfter": dvars.mean(), "tsnr": tsnr}))
            """
        let r = try runProcess(python, ["-c", script, bold.path, confounds.path, series.path, String(q.keptVolumes), String(dummy)])
        XCTAssertEqual(r.status, 0, r.output)
        let ref = try JSONSerialization.jsonObject(with: Data(r.output.utf8)) as! [String: Double]
        XCTAssertEqual(try XCTUnwrap(q.meanFD), ref["meanFD"]!, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(q.medianFD), ref["medianFD"]!, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(q.maxFD), ref["maxFD"]!, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(q.meanStdDVARSBefore), ref["stdDVARSBefore"]!, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(q.meanStdDVARSAfter), ref["stdDVARSAfter"]!, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(unscrubbed.medianTSNR), ref["tsnr"]!, accuracy: 1e-9 * ref["tsnr"]!)
        // Scrubbing at 0.3 mm censored the volumes around the planted jump at volume 40.
        XCTAssertEqual(q.volumes, t - dummy)
        XCTAssertGreaterThan(q.censoredVolumes, 0)
        XCTAssertEqual(q.keptVolumes + q.censoredVolumes, q.volumes)
        XCTAssertEqual(q.censoredFraction, Double(q.censoredVolumes) / Double(q.volumes))
        XCTAssertGreaterThan(q.maxFD!, 0.3)
    }

    func testStandardizedDVARSMatchesTheTwoPassFormulaOnAnUncenteredSeries() throws {
        // An uncleaned series (mean about 1000), over more than one block of columns, with a
        // constant voxel and a skipped one: the one-pass sums against the textbook two passes.
        let t = 60, v = 2500
        var rng = SplitMix64(seed: 17)
        var x = [Float](repeating: 0, count: t * v)
        for c in 0..<v {
            var value = 1000 + Double(c % 7)
            for r in 0..<t {
                value = 0.6 * value + 0.4 * (1000 + Double(c % 7)) + Double.random(in: -5...5, using: &rng)
                x[r * v + c] = c == 3 ? 1234.5 : Float(value)
            }
        }
        var skip = [Bool](repeating: false, count: v)
        skip[10] = true
        var predicted = 0.0, used: [Int] = []
        for c in 0..<v where !skip[c] {
            let column = (0..<t).map { Double(x[$0 * v + c]) }
            let mean = column.reduce(0, +) / Double(t)
            let d = column.map { $0 - mean }
            let ss = d.reduce(0) { $0 + $1 * $1 }
            guard ss > 0 else { continue }
            let rho = (1..<t).reduce(0.0) { $0 + d[$1] * d[$1 - 1] } / ss
            predicted += (ss / Double(t - 1)).squareRoot() * (2 * max(0, 1 - rho)).squareRoot()
            used.append(c)
        }
        predicted /= Double(used.count)
        let expected = (1..<t).reduce(0.0) { total, r in
            let s = used.reduce(0.0) { $0 + pow(Double(x[r * v + $1]) - Double(x[(r - 1) * v + $1]), 2) }
            return total + (s / Double(used.count)).squareRoot() / predicted
        } / Double(t - 1)
        XCTAssertEqual(used.count, v - 2)
        let got = try XCTUnwrap(x.withUnsafeBufferPointer { ScanQuality.meanStandardizedDVARS($0, timePoints: t, skip: skip) })
        XCTAssertEqual(got, expected, accuracy: 1e-12 * expected)
        XCTAssertNil([Float](repeating: 2, count: 3 * 4).withUnsafeBufferPointer {
            ScanQuality.meanStandardizedDVARS($0, timePoints: 3, skip: [Bool](repeating: false, count: 4))
        })
    }

    func testFDIsComputedFromMotionWhenTheColumnIsMissing() throws {
        let table = ConfoundsTable(path: "m.tsv", names: ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"],
                                   columns: ["trans_x": [0, 1, 1], "trans_y": [0, 0, -1], "trans_z": [0, 0, 0],
                                             "rot_x": [0, 0.01, 0.01], "rot_y": [0, 0, 0], "rot_z": [0, 0, -0.02]])
        let fd = try XCTUnwrap(ScanQuality.framewiseDisplacement(table))
        XCTAssertNil(fd[0])
        XCTAssertEqual(fd[1]!, 1 + 50 * 0.01, accuracy: 1e-12)
        XCTAssertEqual(fd[2]!, 1 + 50 * 0.02, accuracy: 1e-12)
        XCTAssertNil(ScanQuality.framewiseDisplacement(ConfoundsTable(path: "x", names: ["csf"], columns: ["csf": [1, 2]])))
    }
}
