import Foundation
import XCTest
import TestSupport
@testable import Numerics

/// `ScrubbingMask` against nilearn's own `_load_scrub` (Tests/CrossCheck/signal_scrub.py).
final class SignalScrubTests: XCTestCase {
    func testMatchesNilearnLoadScrub() throws {
        let dir = try SignalTestData.temporaryDirectory("scrub")
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SignalTestRandom(seed: 9)
        var cases: [(String, [Double], [Double], Double, Double, Int)] = []
        for i in 0..<12 {
            let t = 40 + i * 7
            var fd = (0..<t).map { _ in abs(0.25 * rng.normal()) }
            let dv = (0..<t).map { _ in 1 + 0.4 * rng.normal() }
            fd[0] = .nan
            if i % 3 == 0 { fd[2] = 0.9; fd[t - 3] = 0.8 }  // short head/tail segments
            cases.append(("c\(i)", fd, dv, i % 2 == 0 ? 0.5 : 0.3, 1.5, [5, 0, 3, 1][i % 4]))
        }
        cases.append(("none", [.nan] + [Double](repeating: 0.1, count: 30), [Double](repeating: 1, count: 31), 0.5, 1.5, 5))
        cases.append(("all", [Double](repeating: 1, count: 10), [Double](repeating: 2, count: 10), 0.5, 1.5, 5))
        let json: [[String: Any]] = cases.map { c in
            ["name": c.0, "fd": c.1.map { $0.isNaN ? NSNull() : $0 as Any }, "dvars": c.2.map { $0.isNaN ? NSNull() : $0 as Any },
             "fd_threshold": c.3, "dvars_threshold": c.4, "scrub": c.5]
        }
        try JSONSerialization.data(withJSONObject: json).write(to: dir.appendingPathComponent("cases.json"))
        try SignalTestData.runCrossCheckScript("signal_scrub.py", [dir.path], modules: ["numpy", "pandas", "nilearn"])
        for c in cases {
            let keep = try ScrubbingMask.keepMask(framewiseDisplacement: c.1, stdDVARS: c.2, fdThreshold: c.3, stdDVARSThreshold: c.4, minimumSegmentLength: c.5)
            let ref = try readFloat64(dir.appendingPathComponent("\(c.0).ref.f64")).map { $0 == 1 }
            XCTAssertEqual(keep, ref, "\(c.0)")
        }
    }

    func testSegmentRule() throws {
        // Outliers at 3 and 7 with scrub 5: head 0-2 (3 < 5), gap 4-6 (diff 4 ≤ 5) removed.
        var fd = [Double](repeating: 0, count: 20)
        fd[3] = 1; fd[7] = 1
        let keep = try ScrubbingMask.keepMask(framewiseDisplacement: fd, stdDVARS: nil)
        XCTAssertEqual((0..<20).filter { !keep[$0] }, Array(0...7))
        XCTAssertThrowsError(try ScrubbingMask.keepMask(framewiseDisplacement: [0, 0], stdDVARS: [0]))
    }
}
