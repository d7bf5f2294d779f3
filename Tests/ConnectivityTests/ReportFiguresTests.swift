import XCTest
import Figures
import NIfTI
import PipelineEngine
@testable import Connectivity

/// The report's figures: the carpet plot's pixels (drawn by clean, shown by the report), and the
/// background resampled onto a map's grid by world coordinates.
final class ReportFiguresTests: XCTestCase {
    /// 3 voxels, 6 volumes after the dummy scans, volumes 1 and 4 censored: the censored columns
    /// are red; the kept values of each voxel, z-scored, are grey with −2 black and 2 white.
    func testCarpetShowsZScoredKeptVolumesAndCensoredColumns() throws {
        let kept = 4, v = 3
        // Voxel 0 alternates −1, 1 (z = ∓1); voxel 1 is constant (z = 0); voxel 2 is 0, 0, 0, 4
        // (mean 1, sd √3: z = −1/√3 three times, then 3/√3 = 1.73).
        let values: [[Float]] = [[-1, 5, 0], [1, 5, 0], [-1, 5, 0], [1, 5, 4]]
        let series = SeriesBuffer(zeros: kept * v)
        for t in 0..<kept { for c in 0..<v { series[t * v + c] = values[t][c] } }
        let info = CleanedScan.Info(prefix: "sub-01", space: "", repetitionTime: 2, volumes: 6, keptVolumes: kept, censoredVolumes: [1, 4],
                                    voxelCount: v, gridShape: [3, 1, 1], affine: Affine.identity.rows, confoundColumns: [], nonFiniteVoxels: 0,
                                    residualDegreesOfFreedom: 1, droppedConfounds: nil, zeroedVoxels: 0, standardize: nil, xformCode: 4,
                                    quality: ScanQuality(volumes: 6, keptVolumes: kept, censoredVolumes: 2, censoredFraction: 2.0 / 6,
                                                         residualDegreesOfFreedom: 1))
        let image = CleanedScan.carpet(CleanedScan(info: info, series: series, voxels: [0, 1, 2]), width: 12)
        XCTAssertEqual(image.width, 12, "two pixels a volume")
        XCTAssertEqual(image.height, 3)
        let png = try PNG.encode(width: image.width, height: image.height, pixels: .rgb, data: image.rgb)
        XCTAssertTrue(PNG.size(png)! == (12, 3), "the report reads the size from the PNG header")
        XCTAssertNil(PNG.size(Array(png.dropFirst())))
        func pixel(_ row: Int, _ volume: Int) -> [UInt8] {
            let p = (row * image.width + volume * 2) * 3
            return Array(image.rgb[p..<(p + 3)])
        }
        func grey(_ z: Double) -> [UInt8] { let g = UInt8(min(max((z + 2) / 4, 0), 1) * 255); return [g, g, g] }
        let red: [UInt8] = [244, 182, 176]
        // Volumes 0, 2, 3, 5 hold kept rows 0, 1, 2, 3.
        for (volume, k) in [(0, 0), (2, 1), (3, 2), (5, 3)] {
            XCTAssertEqual(pixel(0, volume), grey(values[k][0] < 0 ? -1 : 1), "voxel 0, volume \(volume)")
            XCTAssertEqual(pixel(1, volume), grey(0), "a constant voxel is mid-grey")
            XCTAssertEqual(pixel(2, volume), grey(k == 3 ? 3 / 3.0.squareRoot() : -1 / 3.0.squareRoot()), "voxel 2, volume \(volume)")
        }
        for row in 0..<3 { for volume in [1, 4] { XCTAssertEqual(pixel(row, volume), red, "censored volume \(volume)") } }
    }

    /// A background on a grid shifted by one voxel and twice as fine is sampled at the map's
    /// voxel centres; outside it, NaN (drawn white).
    func testBackgroundIsResampledByWorldCoordinates() throws {
        // Background: 8 x 8 x 8 at 1 mm, origin at (−1, −1, −1) mm, value = 100 i + 10 j + k.
        let shape = [8, 8, 8]
        let affine = Affine(rows: [[1, 0, 0, -1], [0, 1, 0, -1], [0, 0, 1, -1]])
        var data = [Float](repeating: 0, count: 512)
        for k in 0..<8 { for j in 0..<8 { for i in 0..<8 { data[i + 8 * (j + 8 * k)] = Float(100 * i + 10 * j + k) } } }
        let background = ReportBackground(shape: shape, affine: affine, data: data, description: "test")
        XCTAssertEqual(background.resampled(to: shape, affine: affine), data, "the same grid is the image itself")
        // Map: 4 x 4 x 4 at 2 mm with origin 0: voxel (i, j, k) is at (2i, 2j, 2k) mm, background
        // voxel (2i + 1, 2j + 1, 2k + 1).
        let map = background.resampled(to: [4, 4, 4], affine: Affine(rows: [[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0]]))
        for (i, j, k) in [(0, 0, 0), (1, 2, 3), (3, 3, 2)] {
            XCTAssertEqual(map[i + 4 * (j + 4 * k)], Float(100 * (2 * i + 1) + 10 * (2 * j + 1) + (2 * k + 1)), "map voxel \(i), \(j), \(k)")
        }
        // Voxel (3, 3, 3) of the map is at 6 mm: background voxel 7, the last; (4 mm beyond is out).
        let beyond = background.resampled(to: [5, 1, 1], affine: Affine(rows: [[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0]]))
        XCTAssertEqual(beyond[3], 700 + 10 + 1)
        XCTAssertTrue(beyond[4].isNaN, "8 mm is outside the background")
    }
}
