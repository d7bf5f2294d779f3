import Foundation
import XCTest
import TestSupport
import Numerics

final class StatsGLMTests: XCTestCase {
    func testAgainstNumpyLstsq() throws {
        var g = StatsGaussian(seed: 11)
        let n = 23, p = 4, v = 700, q = 2
        var x = Matrix(rows: n, columns: p)
        for i in 0..<n {
            x[i, 0] = 1
            x[i, 1] = i < 11 ? 1 : 0
            x[i, 2] = g.next() * 3 + 40
            x[i, 3] = g.next()
        }
        var y = Matrix(rows: n, columns: v, data: g.array(n * v))
        for c in 0..<v { for i in 0..<n { y[i, c] += 0.3 * Double(c % 7) * x[i, 1] + 0.01 * x[i, 2] } }
        let c: [Double] = [0, 1, 0, 0]
        let cm = Matrix([[0, 1, 0, 0], [0, 0, 0, 1]])
        let dir = try statsTempDir()
        try writeFloat64([Double(n), Double(p), Double(v), Double(q)], to: dir.appendingPathComponent("shape.f64"))
        try writeFloat64(x.data, to: dir.appendingPathComponent("X.f64"))
        try writeFloat64(y.data, to: dir.appendingPathComponent("Y.f64"))
        try writeFloat64(c, to: dir.appendingPathComponent("c.f64"))
        try writeFloat64(cm.data, to: dir.appendingPathComponent("C.f64"))
        try runStatsScript("stats_glm.py", [dir.path])
        let fit = try GLMFit(design: x, data: y)
        XCTAssertEqual(fit.residualDF, n - p)
        let beta = try readFloat64(dir.appendingPathComponent("beta.f64"))
        let t = try fit.tContrast(c).t
        let f = try fit.fContrast(cm)
        let eb = maxRelativeError(fit.betas.data, beta, floor: 1e-3)
        let et = maxRelativeError(t, try readFloat64(dir.appendingPathComponent("t.f64")))
        let ef = maxRelativeError(f, try readFloat64(dir.appendingPathComponent("F.f64")))
        print("GLM max rel err beta \(eb) t \(et) F \(ef)")
        XCTAssertLessThanOrEqual(eb, 1e-10)
        XCTAssertLessThanOrEqual(et, 1e-10)
        XCTAssertLessThanOrEqual(ef, 1e-10)
    }

    func testRankDeficientDesignIsAnError() {
        var x = Matrix(rows: 10, columns: 3)
        for i in 0..<10 { x[i, 0] = 1; x[i, 1] = Double(i); x[i, 2] = 2 * Double(i) + 1 }
        let y = Matrix(rows: 10, columns: 5, repeating: 1)
        XCTAssertThrowsError(try GLMFit(design: x, data: y)) { error in
            XCTAssertEqual((error as? GLMError)?.code, .rankDeficientDesign)
        }
        XCTAssertThrowsError(try GLMFit(design: Matrix(rows: 3, columns: 3, data: [1, 0, 0, 0, 1, 0, 0, 0, 1]), data: Matrix(rows: 3, columns: 1))) { error in
            XCTAssertEqual((error as? GLMError)?.code, .noResidualDegreesOfFreedom)
        }
    }

    func testZeroVarianceTargetGivesNonFiniteT() throws {
        let x = Matrix(columns: [[Double](repeating: 1, count: 6), [0, 0, 0, 1, 1, 1]])
        let y = Matrix(rows: 6, columns: 1, repeating: 2)
        let t = try GLMFit(design: x, data: y).tContrast([0, 1]).t
        XCTAssertFalse(t[0].isFinite)
    }
}
