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

    func testSmoothingAFootprintMatchesTheWholeGridBitForBit() throws {
        let shape = [13, 11, 9]
        var rng = SignalTestRandom(seed: 11)
        let volume = (0..<shape.reduce(1, *)).map { _ in Float(100 + 10 * rng.normal()) }
        func box(_ x: Range<Int>, _ y: Range<Int>, _ z: Range<Int>) -> [Int] {
            z.flatMap { k in y.flatMap { j in x.map { i in i + shape[0] * (j + shape[1] * k) } } }
        }
        // Boxes touching the edges, inside, one voxel wide; a ball; scattered voxels (lines with
        // gaps); the whole grid. With a kernel longer than the z axis.
        let ball = box(0..<13, 0..<11, 0..<9).filter { v in
            let x = v % 13 - 6, y = (v / 13) % 11 - 5, z = v / 143 - 4
            return x * x + 2 * y * y + 3 * z * z <= 30
        }
        let scattered = (0..<40).map { _ in Int.random(in: 0..<shape.reduce(1, *), using: &rng) }
        let sets = [box(3..<9, 2..<7, 1..<8), box(0..<13, 0..<4, 6..<9), box(5..<6, 10..<11, 0..<1), ball, scattered,
                    box(0..<13, 0..<11, 0..<9)]
        var computedInputs = 0
        for fwhm in [[6.0], [4, 0, 9], [20], [0, 3, 0], [0, 0, 0]] {
            let smoothing = try GaussianSmoothing(fwhm: fwhm, voxelSize: [2, 2.5, 3])
            var whole = volume
            try smoothing.smooth(&whole, shape: shape)
            let scratch = SmoothingScratch(shape: shape, smoothing: smoothing)
            for voxels in sets {
                let footprint = SmoothingFootprint(voxels: voxels, shape: shape, smoothing: smoothing)
                // Values the footprint does not read are garbage to it: NaN here, so that reading
                // one would show in the kept voxels.
                var part = [Float](repeating: .nan, count: volume.count)
                for (line, span) in footprint.inputs.enumerated() {
                    for x in span.range { part[x + shape[0] * line] = volume[x + shape[0] * line] }
                    computedInputs += span.count
                }
                part.withUnsafeMutableBufferPointer { smoothing.smooth(volume: $0.baseAddress!, shape: shape, keeping: footprint, scratch: scratch) }
                for v in voxels {
                    XCTAssertEqual(part[v].bitPattern, whole[v].bitPattern, "fwhm \(fwhm), \(voxels.count) voxels, at \(v)")
                }
            }
        }
        XCTAssertGreaterThan(computedInputs, 0)
        // The footprint of one voxel away from the edges: its kernel's reach, one line's hull per line.
        let smoothing = try GaussianSmoothing(fwhm: [4], voxelSize: [2, 2, 2])  // σ 0.85, radius 3
        let one = SmoothingFootprint(voxels: box(6..<7, 5..<6, 4..<5), shape: shape, smoothing: smoothing)
        XCTAssertEqual(one.inputs.filter { !$0.isEmpty }.count, 7 * 7)
        XCTAssertEqual(Set(one.inputs.filter { !$0.isEmpty }.map(\.range)), [3..<10])
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
