import Foundation
import XCTest
import TestSupport
import Numerics

final class StatsDistributionTests: XCTestCase {
    func testAgainstScipy() throws {
        let dir = try statsTempDir()
        try runStatsScript("stats_distributions.py", [dir.path])
        func r(_ name: String) throws -> [Double] { try readFloat64(dir.appendingPathComponent("\(name).f64")) }

        let tin = try r("t_in")
        let pairs = stride(from: 0, to: tin.count, by: 2).map { (tin[$0], tin[$0 + 1]) }
        let sf = pairs.map { StudentTDistribution(df: $0.1).sf($0.0) }
        let cdf = pairs.map { StudentTDistribution(df: $0.1).cdf($0.0) }
        let logsf = pairs.map { StudentTDistribution(df: $0.1).logSF($0.0) }
        let z = pairs.map { ZScore.fromT($0.0, df: $0.1) }
        let eSF = try r("t_sf"), eLog = try r("t_logsf")
        XCTAssertLessThanOrEqual(maxRelativeError(sf, eSF), 1e-10, "t sf")
        XCTAssertLessThanOrEqual(maxRelativeError(cdf, try r("t_cdf")), 1e-10, "t cdf")
        // logsf where scipy's is finite and not computed as log(0).
        let okLog = zip(logsf, eLog).filter { $0.1.isFinite }
        XCTAssertLessThanOrEqual(maxRelativeError(okLog.map { $0.0 }, okLog.map { $0.1 }), 1e-10, "t logsf")
        XCTAssertLessThanOrEqual(maxRelativeError(z, try r("t_z")), 1e-10, "t -> z (nilearn z_score)")
        print("t sf max rel err", maxRelativeError(sf, eSF), "z", maxRelativeError(z, try r("t_z")))

        let fin = try r("f_in")
        let fq = stride(from: 0, to: fin.count, by: 3).map { (fin[$0], fin[$0 + 1], fin[$0 + 2]) }
        let fsf = fq.map { FDistribution(dfn: $0.1, dfd: $0.2).sf($0.0) }
        let fcdf = fq.map { FDistribution(dfn: $0.1, dfd: $0.2).cdf($0.0) }
        XCTAssertLessThanOrEqual(maxRelativeError(fsf, try r("f_sf")), 1e-10, "F sf")
        XCTAssertLessThanOrEqual(maxRelativeError(fcdf, try r("f_cdf")), 1e-10, "F cdf")
        print("F sf max rel err", maxRelativeError(fsf, try r("f_sf")))

        let xs = try r("n_x")
        XCTAssertLessThanOrEqual(maxRelativeError(xs.map(NormalDistribution.sf), try r("n_sf")), 1e-13, "norm sf")
        XCTAssertLessThanOrEqual(maxRelativeError(xs.map(NormalDistribution.cdf), try r("n_cdf")), 1e-13, "norm cdf")
        let ps = try r("n_p")
        let isf = ps.map(NormalDistribution.isf)
        XCTAssertLessThanOrEqual(maxRelativeError(isf, try r("n_isf")), 1e-13, "norm isf")
        print("norm isf max rel err", maxRelativeError(isf, try r("n_isf")))

        let ti = try r("tisf_in")
        let tisf = stride(from: 0, to: ti.count, by: 2).map { StudentTDistribution(df: ti[$0 + 1]).isf(ti[$0]) }
        XCTAssertLessThanOrEqual(maxRelativeError(tisf, try r("tisf")), 1e-10, "t isf")
    }

    func testEdgeCases() {
        let t = StudentTDistribution(df: 10)
        XCTAssertEqual(t.sf(0), 0.5)
        XCTAssertEqual(t.sf(.infinity), 0)
        XCTAssertEqual(t.sf(-.infinity), 1)
        XCTAssertTrue(t.sf(.nan).isNaN)
        XCTAssertGreaterThan(StudentTDistribution(df: 1).sf(1e200), 0)  // no underflow: 1/(π t)
        XCTAssertEqual(StudentTDistribution(df: 1).sf(1e200), 1 / (Double.pi * 1e200), accuracy: 1e-212)
        XCTAssertTrue(StudentTDistribution(df: 3).logSF(1e300).isFinite)
        XCTAssertEqual(NormalDistribution.isf(0), .infinity)
        XCTAssertEqual(NormalDistribution.isf(1), -.infinity)
        XCTAssertEqual(NormalDistribution.isf(0.5), 0)
        XCTAssertTrue(NormalDistribution.isf(.nan).isNaN)
        XCTAssertEqual(NormalDistribution.isf(Double.leastNonzeroMagnitude), 38.4674, accuracy: 1e-3)  // subnormal p
        // nilearn saturation: huge t -> z = isf(1e-300) and symmetric.
        let zMax = NormalDistribution.isf(1e-300)
        XCTAssertEqual(ZScore.fromT(1e30, df: 20), zMax)
        XCTAssertEqual(ZScore.fromT(-1e30, df: 20), -zMax, accuracy: 1e-12)
        XCTAssertEqual(ZScore.fromT(0, df: 20), 0, accuracy: 1e-15)
        XCTAssertEqual(FDistribution(dfn: 2, dfd: 10).sf(0), 1)
        XCTAssertEqual(FDistribution(dfn: 2, dfd: 10).sf(.infinity), 0)
        // −log10 p stays finite where p underflows.
        XCTAssertGreaterThan(StudentTDistribution(df: 40).negLog10SF(1e10), 350)
        XCTAssertTrue(StudentTDistribution(df: 40).negLog10SF(1e10).isFinite)
    }
}
