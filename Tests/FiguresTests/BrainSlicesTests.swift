import Figures
import XCTest

/// Orientation: a blob planted in the left hemisphere appears on the side labelled L in every
/// view, in both conventions and for grids stored either way round; anterior is on the right of
/// sagittal views and at the top of axial ones; superior is at the top.
final class BrainSlicesTests: XCTestCase {
    /// A 20 × 24 × 18 grid at 4 mm; `flipX` stores x from right to left (a negative x step).
    private func grid(flipX: Bool, convention: BrainSlices.Convention) throws -> BrainSlices {
        let affine: [[Double]] = flipX ? [[-4, 0, 0, 38], [0, 4, 0, -46], [0, 0, 4, -34]]
                                       : [[4, 0, 0, -38], [0, 4, 0, -46], [0, 0, 4, -34]]
        return try BrainSlices(dims: [20, 24, 18], affine: affine, convention: convention, zoom: 1)
    }

    /// A blob of value 5 around world (x, y, z).
    private func blob(_ g: BrainSlices, at world: [Double]) -> [Float] {
        var data = [Float](repeating: 0, count: 20 * 24 * 18)
        let centre = (0..<3).map { g.index(world: $0, mm: world[$0]) }
        for x in 0..<20 { for y in 0..<24 { for z in 0..<18 {
            let w = [x, y, z].enumerated().map { g.coordinate(world: $0.offset, index: $0.element) }
            let c = (0..<3).map { g.coordinate(world: $0, index: centre[$0]) }
            let d2 = zip(w, c).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
            if d2 <= 64 {
                // The file's voxel order: along x the stored index runs with the affine's sign.
                data[g.fileIndex(worldIndices: [x, y, z])] = 5
            }
        }}}
        return data
    }

    /// The mean column and row of coloured (non-grey) pixels. (vmax 10 keeps the blob's 5 off
    /// the white end of cold_hot.)
    private func centroid(_ image: BrainSlices.Image) -> (x: Double, y: Double) {
        var sx = 0.0, sy = 0.0, n = 0.0
        for y in 0..<image.height { for x in 0..<image.width {
            let p = (y * image.width + x) * 3
            if image.rgb[p] != image.rgb[p + 1] || image.rgb[p + 1] != image.rgb[p + 2] { sx += Double(x); sy += Double(y); n += 1 }
        }}
        return (sx / n, sy / n)
    }

    func testALeftBlobIsOnTheSideLabelledLeft() throws {
        for flipX in [false, true] {
            for convention in [BrainSlices.Convention.neurological, .radiological] {
                let g = try grid(flipX: flipX, convention: convention)
                // Left (x < 0), anterior (y > 0), superior (z > 0).
                let data = blob(g, at: [-24, 30, 30])
                let what = "flipX \(flipX), \(convention)"
                for view in [BrainSlices.View.coronal, .axial] {
                    let image = g.slice(view, at: 30, background: nil, backgroundRange: (0, 1), overlay: data, threshold: 1, vmax: 10)
                    let c = centroid(image)
                    let onLeftHalf = c.x < Double(image.width) / 2
                    XCTAssertEqual(onLeftHalf, image.leftEdge == "L", "\(view), \(what): blob at column \(c.x) of \(image.width), left edge \(image.leftEdge)")
                    XCTAssertLessThan(c.y, Double(image.height) / 2, "\(view), \(what): superior (coronal) or anterior (axial) is up")
                    let mask = [Bool](repeating: true, count: data.count)
                    let glass = g.projection(view, mask: mask, overlay: data, threshold: 1, vmax: 10)
                    XCTAssertEqual(centroid(glass).x < Double(glass.width) / 2, glass.leftEdge == "L", "\(view) projection, \(what)")
                }
                let sagittal = g.slice(.sagittal, at: -24, background: nil, backgroundRange: (0, 1), overlay: data, threshold: 1, vmax: 10)
                XCTAssertEqual(sagittal.rightEdge, "A")
                XCTAssertGreaterThan(centroid(sagittal).x, Double(sagittal.width) / 2, "anterior on the right, \(what)")
                XCTAssertLessThan(centroid(sagittal).y, Double(sagittal.height) / 2, "superior at the top, \(what)")
            }
        }
    }

    func testObliqueAffinesAreRefusedWithTheRow() {
        XCTAssertThrowsError(try BrainSlices(dims: [4, 4, 4], affine: [[4, 1, 0, 0], [0, 4, 0, 0], [0, 0, 4, 0]])) { error in
            XCTAssertTrue("\(error)".contains("row 0"), "\(error)")
        }
    }
}
