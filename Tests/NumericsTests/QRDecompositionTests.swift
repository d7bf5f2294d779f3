import XCTest
@testable import Numerics

final class QRDecompositionTests: XCTestCase {
    func testReconstructsPivotedMatrixWithOrthonormalQ() {
        let a = Matrix([[1, 2, 3], [4, 5, 6.5], [7, 8.5, 9], [1, 0, 1], [2, 2, -1]])
        let qr = QRDecomposition(a)
        let product = qr.q * qr.r
        for r in 0..<a.rows {
            for j in 0..<a.columns { XCTAssertEqual(product[r, j], a[r, qr.permutation[j]], accuracy: 1e-12) }
        }
        let qtq = qr.q.transposed * qr.q
        for i in 0..<3 { for j in 0..<3 { XCTAssertEqual(qtq[i, j], i == j ? 1 : 0, accuracy: 1e-12) } }
        XCTAssertEqual(qr.rank(), 3)
        // |R_ii| is non-increasing under pivoting.
        XCTAssertGreaterThanOrEqual(abs(qr.r[0, 0]), abs(qr.r[1, 1]))
        XCTAssertGreaterThanOrEqual(abs(qr.r[1, 1]), abs(qr.r[2, 2]))
    }

    func testRankDeficientColumnsAreDetected() {
        // Third column = first + second.
        let a = Matrix([[1, 0, 1], [0, 1, 1], [1, 1, 2], [2, 3, 5]])
        XCTAssertEqual(QRDecomposition(a).rank(), 2)
        XCTAssertEqual(QRDecomposition(Matrix(rows: 4, columns: 2)).rank(), 0)
    }
}
