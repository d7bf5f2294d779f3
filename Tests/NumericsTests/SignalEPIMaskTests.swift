import Foundation
import XCTest
import TestSupport
@testable import Numerics

/// `EPIBrainMask` against nilearn `compute_epi_mask` (Tests/CrossCheck/signal_epi_mask.py).
final class SignalEPIMaskTests: XCTestCase {
    func testMatchesNilearnComputeEPIMask() throws {
        let dir = try SignalTestData.temporaryDirectory("epimask")
        defer { try? FileManager.default.removeItem(at: dir) }
        let shape = [22, 20, 16, 4]
        let (nx, ny, nz, nt) = (shape[0], shape[1], shape[2], shape[3])
        var rng = SignalTestRandom(seed: 77)
        var data = [Double](repeating: 0, count: shape.reduce(1, *))
        for t in 0..<nt {
            for z in 0..<nz {
                for y in 0..<ny {
                    for x in 0..<nx {
                        let dx = (Double(x) - 10.5) / 8, dy = (Double(y) - 9.5) / 7, dz = (Double(z) - 7.5) / 6
                        let inBrain = dx * dx + dy * dy + dz * dz < 1
                        let blob = abs(x - 19) <= 2 && abs(y - 2) <= 2 && abs(z - 12) <= 2  // separate bright blob that survives the opening
                        var value = inBrain ? 800 + 60 * rng.normal() : 40 + 10 * rng.normal()
                        if blob { value = 900 + 20 * rng.normal() }
                        if z == 0 && y < 4 { value = 0 }  // an exact-zero region
                        data[x + nx * (y + ny * (z + nz * t))] = value
                    }
                }
            }
        }
        data[5 + nx * (5 + ny * 5)] = .nan  // NaN voxel (volume 0)
        try writeFloat64(data, to: dir.appendingPathComponent("epi.f64"))
        let cases: [(String, EPIBrainMask)] = [
            ("default", EPIBrainMask()), ("no_opening", EPIBrainMask(opening: 0)), ("not_connected", EPIBrainMask(connected: false)),
            ("opening1", EPIBrainMask(opening: 1)), ("exclude_zeros", EPIBrainMask(excludeZeros: true)),
            ("cutoffs", EPIBrainMask(lowerCutoff: 0.1, upperCutoff: 0.95, connected: false, opening: 0)),
        ]
        let json: [[String: Any]] = cases.map { name, m in
            ["name": name, "shape": shape, "input": "epi.f64", "lower_cutoff": m.lowerCutoff, "upper_cutoff": m.upperCutoff,
             "connected": m.connected, "opening": m.opening, "exclude_zeros": m.excludeZeros]
        }
        try JSONSerialization.data(withJSONObject: json).write(to: dir.appendingPathComponent("cases.json"))
        try SignalTestData.runCrossCheckScript("signal_epi_mask.py", [dir.path], modules: ["numpy", "scipy", "nibabel", "nilearn"])
        // The separate bright blob is its own component: kept without `connected`, dropped with it.
        XCTAssertGreaterThan(try EPIBrainMask(connected: false).compute(data, shape: shape).filter { $0 }.count,
                             try EPIBrainMask().compute(data, shape: shape).filter { $0 }.count)
        for (name, m) in cases {
            let mask = try m.compute(data, shape: shape)
            let ref = try readFloat64(dir.appendingPathComponent("\(name).ref.f64")).map { $0 == 1 }
            XCTAssertEqual(mask.count, ref.count)
            let mismatches = zip(mask, ref).filter { $0 != $1 }.count
            XCTAssertEqual(mismatches, 0, "\(name): \(mismatches) voxels differ (mask \(mask.filter { $0 }.count), nilearn \(ref.filter { $0 }.count))")
        }
    }
}
