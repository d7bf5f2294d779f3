import Foundation
import XCTest
@testable import NIfTI

final class HeaderTests: XCTestCase {
    /// setAffine stores a rigid-plus-zoom affine exactly in the qform, for both handednesses.
    func testQformRepresentsRotationsExactly() {
        for (angle, flip) in [(0.0, 1.0), (0.3, 1.0), (2.0, -1.0), (Double.pi, 1.0), (-1.2, -1.0)] {
            let c = cos(angle), s = sin(angle)
            let affine = Affine(rows: [[1.5 * flip * c, -2 * s, 0, 10], [1.5 * flip * s, 2 * c, 0, -20], [0, 0, 3, 5]])
            var h = NIfTIHeader()
            h.setShape([4, 4, 4])
            h.setAffine(affine, code: 1)
            XCTAssertTrue(h.qformAffine.isClose(to: affine, tolerance: 1e-12), "angle \(angle) flip \(flip): \(h.qformAffine)")
            XCTAssertEqual(h.qfac, flip == 1 ? 1 : -1)
        }
    }

    /// Precedence: sform when its code is set, else qform, else nibabel's centred fallback.
    func testAffinePrecedence() {
        var h = NIfTIHeader()
        h.setShape([5, 4, 3])
        h.pixdim = [1, 2, 2.5, 3, 1, 1, 1, 1]
        XCTAssertEqual(h.affine, Affine(rows: [[-2, 0, 0, 4], [0, 2.5, 0, -3.75], [0, 0, 3, -3]]))
        h.qformCode = 1
        h.qoffsetX = 7
        XCTAssertEqual(h.affineSource, "qform")
        XCTAssertEqual(h.affine[0, 3], 7)
        h.sformCode = 2
        h.srowX = [1, 0, 0, -1]
        h.srowY = [0, 1, 0, -2]
        h.srowZ = [0, 0, 1, -3]
        XCTAssertEqual(h.affineSource, "sform")
        XCTAssertEqual(h.affine[2, 3], -3)
    }

    func testOrientationCodes() {
        XCTAssertEqual(NIfTIHeader.axisCodes(Affine(rows: [[-2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0]])), "LAS")
        XCTAssertEqual(NIfTIHeader.axisCodes(Affine(rows: [[-2, 0, 0, 0], [0, -2, 0, 0], [0, 0, 2, 0]])), "LPS")
        XCTAssertEqual(NIfTIHeader.axisCodes(Affine(rows: [[0, 0, 2, 0], [2, 0, 0, 0], [0, -2, 0, 0]])), "AIR")
        // Oblique by 30 degrees still maps each axis to its nearest world axis.
        let c = cos(0.5), s = sin(0.5)
        XCTAssertEqual(NIfTIHeader.axisCodes(Affine(rows: [[c, -s, 0, 0], [s, c, 0, 0], [0, 0, 1, 0]])), "RAS")
    }

    /// TR in seconds whatever the unit; implausible values flagged, with a hint for ms.
    func testRepetitionTimeUnits() {
        var h = NIfTIHeader()
        h.setShape([2, 2, 2, 10])
        h.pixdim[4] = 2000
        h.xyztUnits = 2 | 16
        XCTAssertEqual(h.repetitionTime, 2)
        XCTAssertNil(h.repetitionTimeIssue)
        h.xyztUnits = 2 | 24
        h.pixdim[4] = 1_500_000
        XCTAssertEqual(h.repetitionTime, 1.5)
        h.xyztUnits = 2 | 8
        h.pixdim[4] = 2000
        XCTAssertEqual(h.repetitionTime, 2000)
        let issue = h.repetitionTimeIssue ?? ""
        XCTAssertTrue(issue.contains("implausible") && issue.contains("milliseconds"), issue)
        XCTAssertTrue(h.validate().contains { $0.field == "pixdim[4]" && $0.severity == .warning })
        h.pixdim[4] = 0
        XCTAssertNil(h.repetitionTime)
        XCTAssertNotNil(h.repetitionTimeIssue)
        h.setShape([2, 2, 2])
        XCTAssertNil(h.repetitionTime)
    }

    func testValidateFlagsBitpixAndQfac() {
        var h = NIfTIHeader()
        h.setShape([2, 2, 2])
        h.datatypeCode = NIfTIDatatype.int16.rawValue
        h.bitpix = 8
        h.pixdim[0] = 0
        h.qformCode = 1
        h.sformCode = 1
        let fields = h.validate().map(\.field)
        XCTAssertTrue(fields.contains("bitpix"))
        XCTAssertTrue(fields.contains("pixdim[0]"))
    }

    func testAffineInverse() {
        let a = Affine(rows: [[-2, 0.1, 0, 90], [0, 2, 0.3, -126], [0.2, 0, 2, -72]])
        let product = a * a.inverse!
        XCTAssertTrue(product.isClose(to: .identity, tolerance: 1e-12))
        XCTAssertNil(Affine(rows: [[0, 0, 0, 1], [0, 1, 0, 0], [0, 0, 1, 0]]).inverse)
    }
}
