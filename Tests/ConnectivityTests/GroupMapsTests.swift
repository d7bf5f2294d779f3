import Foundation
import XCTest
import NIfTI
@testable import Connectivity

/// Group maps on differing grids: an error naming the file, unless resampling is asked for;
/// trilinear resampling reproduces a linear field exactly; partial coverage fills the voxel mean;
/// a subject's runs are averaged where every run covers the voxel.
final class GroupMapsTests: XCTestCase {
    private func write(_ shape: [Int], _ affine: Affine, _ value: (Double, Double, Double) -> Double) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("groupmaps-\(UUID().uuidString.prefix(8)).nii.gz")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        var data = [Float](repeating: 0, count: shape.reduce(1, *))
        for k in 0..<shape[2] { for j in 0..<shape[1] { for i in 0..<shape[0] {
            let w = affine.apply([Double(i), Double(j), Double(k)])
            data[i + shape[0] * (j + shape[1] * k)] = Float(value(w[0], w[1], w[2]))
        } } }
        try NIfTIFile.write(NIfTIImage(shape: shape, affine: affine, data: data), to: url.path)
        return url
    }

    func testDifferingGridsAreAnErrorUnlessResampled() throws {
        let field = { (x: Double, y: Double, z: Double) in 100 + 0.5 * x - 0.25 * y + 0.125 * z }
        let a = Affine(rows: [[2, 0, 0, -20], [0, 2, 0, -20], [0, 0, 2, -10], [0, 0, 0, 1]])
        let b = Affine(rows: [[3, 0, 0, -21], [0, 3, 0, -19.5], [0, 0, 3, -12], [0, 0, 0, 1]])  // 3 mm, shifted
        let first = try write([20, 20, 10], a, field), second = try write([12, 14, 8], b, field)
        XCTAssertThrowsError(try GroupMaps.load([[[first], [second]]], coverage: 1, resampling: .none)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(second.path) && text.contains("resample"), text)
        }
        let maps = try GroupMaps.load([[[first], [second]]], coverage: 1, resampling: .linear)
        XCTAssertEqual(maps.shape, [20, 20, 10])
        XCTAssertGreaterThan(maps.voxels.count, 1000)
        for (n, v) in maps.voxels.enumerated() {
            let ijk = [v % 20, (v / 20) % 20, v / 400].map(Double.init)
            let w = a.apply(ijk)
            // A linear field is reproduced exactly by trilinear interpolation (float32 storage).
            XCTAssertEqual(maps.sets[0][1, n], field(w[0], w[1], w[2]), accuracy: 2e-4)
            XCTAssertEqual(maps.sets[0][0, n], maps.sets[0][1, n], accuracy: 2e-4)
        }
        // Outside the 3 mm grid (x > 12 mm) nothing is invented: those voxels leave the mask.
        XCTAssertFalse(maps.voxels.contains { a.apply([Double($0 % 20), 0, 0])[0] > 12.5 })
        XCTAssertTrue(maps.voxels.contains { a.apply([Double($0 % 20), 0, 0])[0] == 12 })
    }

    func testCoverageFillsTheVoxelMean() throws {
        let a = Affine(rows: [[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0], [0, 0, 0, 1]])
        let full = { (v: Double) in { (x: Double, _: Double, _: Double) in v + x } }
        let maps = [try write([6, 4, 4], a, full(1)), try write([6, 4, 4], a, full(2)), try write([6, 4, 4], a, full(3)),
                    try write([6, 4, 4], a, { x, _, _ in x < 5 ? 4 + x : 0 })]  // covers x < 5 mm only
        let all = try GroupMaps.load([maps.map { [$0] }], coverage: 1, resampling: .none)
        XCTAssertEqual(all.voxels.count, 3 * 16)
        let most = try GroupMaps.load([maps.map { [$0] }], coverage: 0.75, resampling: .none)
        XCTAssertEqual(most.voxels.count, 6 * 16)
        XCTAssertEqual(most.filled, 3 * 16)
        let n = try XCTUnwrap(most.voxels.firstIndex(of: 5))  // x = 10 mm: the fourth map is filled with the mean
        XCTAssertEqual(most.sets[0][3, n], (11 + 12 + 13) / 3, accuracy: 1e-5)
    }

    func testASubjectsRunsAreAveragedWhereEveryRunCoversTheVoxel() throws {
        let a = Affine(rows: [[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0], [0, 0, 0, 1]])
        let run1 = try write([6, 4, 4], a) { x, y, _ in 1 + x + 0.1 * y }
        let run2 = try write([6, 4, 4], a) { x, y, _ in x < 7 ? 3 + x - 0.3 * y : 0 }  // covers x < 7 mm only
        let run3 = try write([6, 4, 4], a) { x, _, _ in x == 2 ? .nan : 0.5 * x + 2 }  // NaN at x = 2 mm
        let single = try write([6, 4, 4], a) { x, _, _ in 10 + x }
        let maps = try GroupMaps.load([[[run1, run2, run3], [single]]], coverage: 1, resampling: .none)
        // Covered by every run of the first subject: x in {0, 4, 6} mm (x = 2 has the NaN, x >= 8 is outside run 2).
        XCTAssertEqual(Set(maps.voxels.map { $0 % 6 }), [0, 2, 3])
        XCTAssertEqual(maps.voxels.count, 3 * 16)
        for (n, v) in maps.voxels.enumerated() {
            let x = Double(2 * (v % 6)), y = Double(2 * ((v / 6) % 4))
            let values = [1 + x + 0.1 * y, 3 + x - 0.3 * y, 0.5 * x + 2].map { Double(Float($0)) }
            XCTAssertEqual(maps.sets[0][0, n], Double(Float(values.reduce(0, +) / 3)), "voxel \(v)")
            XCTAssertEqual(maps.sets[0][1, n], Double(Float(10 + x)))
        }
        // One run is the run's map itself.
        let alone = try GroupMaps.load([[[run1], [single]]], coverage: 1, resampling: .none)
        XCTAssertEqual(alone.voxels.count, 6 * 16)
        XCTAssertEqual(alone.sets[0][0, 7], Double(Float(1 + 2 + 0.2)))
    }
}
