import Foundation
import XCTest
import TestSupport
@testable import Numerics

/// `GaussianSmoothing` against nilearn `image.smooth_img` (Tests/CrossCheck/signal_smoothing.py).
final class SignalSmoothingTests: XCTestCase {
    func testMatchesNilearnSmoothImgOnAnisotropic4DVolume() throws {
        let dir = try SignalTestData.temporaryDirectory("smooth")
        defer { try? FileManager.default.removeItem(at: dir) }
        let shape = [9, 7, 6, 3]
        let count = shape.reduce(1, *)
        var rng = SignalTestRandom(seed: 5)
        let clean = (0..<count).map { _ in 100 + 10 * rng.normal() }
        var dirty = clean
        dirty[4] = .nan; dirty[100] = .infinity; dirty[333] = -.infinity
        try writeFloat64(clean, to: dir.appendingPathComponent("clean.f64"))
        try writeFloat64(dirty, to: dir.appendingPathComponent("dirty.f64"))
        // Rotation about z by 30° times diag(2, 3, 2.5): column norms 2, 3, 2.5 mm.
        let c = cos(Double.pi / 6), s = sin(Double.pi / 6)
        let affine: [[Double]] = [[2 * c, -3 * s, 0, -10], [2 * s, 3 * c, 0, 5], [0, 0, 2.5, 7], [0, 0, 0, 1]]
        let voxelSize = (0..<3).map { j in (0..<3).reduce(0.0) { $0 + affine[$1][j] * affine[$1][j] }.squareRoot() }
        let cases: [(String, [Double]?, String)] = [
            ("fwhm6", [6], "clean"), ("fwhm_xyz", [4, 8, 0], "clean"), ("fwhm_huge", [30], "clean"),
            ("nonfinite", [5], "dirty"), ("none", nil, "dirty"), ("zero", [0], "dirty"),
        ]
        let json: [[String: Any]] = cases.map { name, fwhm, input in
            ["name": name, "shape": shape, "affine": affine, "input": "\(input).f64",
             "fwhm": fwhm.map { $0.count == 1 ? $0[0] as Any : $0 as Any } ?? NSNull()]
        }
        try JSONSerialization.data(withJSONObject: json).write(to: dir.appendingPathComponent("cases.json"))
        try SignalTestData.runCrossCheckScript("signal_smoothing.py", [dir.path], modules: ["numpy", "scipy", "nibabel", "nilearn"])
        var worst = 0.0
        for (name, fwhm, input) in cases {
            var data = input == "clean" ? clean : dirty
            try GaussianSmoothing(fwhm: fwhm, voxelSize: voxelSize).smooth(&data, shape: shape)
            let ref = try readFloat64(dir.appendingPathComponent("\(name).ref.f64"))
            let diff = SignalTestData.maxAbsDifference(data, ref)
            worst = max(worst, diff)
            XCTAssertLessThanOrEqual(diff, 1e-10, "\(name): max |Δ| = \(diff)")
            XCTAssertFalse(data.contains { !$0.isFinite }, "\(name): non-finite output")
        }
        // float32 storage: rounded after every axis, like scipy on a float32 array.
        var f = clean.map { Float($0) }
        try GaussianSmoothing(fwhm: [6], voxelSize: voxelSize).smooth(&f, shape: shape)
        let ref = try readFloat64(dir.appendingPathComponent("fwhm6.ref.f64"))
        XCTAssertLessThanOrEqual(SignalTestData.maxAbsDifference(f.map { Double($0) }, ref), 1e-4)
        print("GaussianSmoothing vs nilearn smooth_img: max |Δ| \(worst)")
    }

    func testSmoothingWithinABoxMatchesTheWholeGridBitForBit() throws {
        let shape = [13, 11, 9]
        var rng = SignalTestRandom(seed: 11)
        let volume = (0..<shape.reduce(1, *)).map { _ in Float(100 + 10 * rng.normal()) }
        // Boxes touching the edges, inside, one voxel wide, and a kernel longer than the z axis.
        let boxes = [VoxelBox(x: 3..<9, y: 2..<7, z: 1..<8), VoxelBox(x: 0..<13, y: 0..<4, z: 6..<9),
                     VoxelBox(x: 5..<6, y: 10..<11, z: 0..<1), VoxelBox.full(shape)]
        for fwhm in [[6.0], [4, 0, 9], [20]] {
            let smoothing = try GaussianSmoothing(fwhm: fwhm, voxelSize: [2, 2.5, 3])
            var whole = volume
            try smoothing.smooth(&whole, shape: shape)
            let scratch = SmoothingScratch(shape: shape, smoothing: smoothing)
            for box in boxes {
                var part = volume
                part.withUnsafeMutableBufferPointer { smoothing.smooth(volume: $0.baseAddress!, shape: shape, within: box, scratch: scratch) }
                for z in box.z { for y in box.y { for x in box.x {
                    let i = x + shape[0] * (y + shape[1] * z)
                    XCTAssertEqual(part[i].bitPattern, whole[i].bitPattern, "fwhm \(fwhm) box \(box) at \(x),\(y),\(z)")
                } } }
            }
        }
        XCTAssertEqual(VoxelBox.bounding([3 + 13 * (2 + 11 * 4), 7 + 13 * (1 + 11 * 2)], shape: shape),
                       VoxelBox(x: 3..<8, y: 1..<3, z: 2..<5))
        XCTAssertNil(VoxelBox.bounding([], shape: shape))
    }

    func testKernelAndReflectRule() throws {
        // scipy: gaussian_filter1d(sigma=1) radius 4; weights symmetric, sum 1.
        let k = GaussianSmoothing.kernel(sigma: 1)
        XCTAssertEqual(k.count, 9)
        XCTAssertEqual(k.reduce(0, +), 1, accuracy: 1e-15)
        XCTAssertEqual(k[0], k[8])
        XCTAssertEqual(GaussianSmoothing.kernel(sigma: 0.1).count, 1)  // int(0.4 + 0.5) = 0
        // reflect: (d c b a | a b c d | d c b a)
        XCTAssertEqual((-4..<8).map { GaussianSmoothing.reflect($0, 4) }, [3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0])
        XCTAssertThrowsError(try GaussianSmoothing(fwhm: [-1], voxelSize: [2, 2, 2]))
        XCTAssertThrowsError(try GaussianSmoothing(fwhm: [6], voxelSize: [2, 0, 2]))
        var wrong = [Double](repeating: 0, count: 10)
        XCTAssertThrowsError(try GaussianSmoothing(fwhm: [6], voxelSize: [2, 2, 2]).smooth(&wrong, shape: [2, 2, 2]))
    }
}
