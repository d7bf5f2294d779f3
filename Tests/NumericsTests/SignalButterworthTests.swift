import Foundation
import XCTest
import TestSupport
@testable import Numerics

/// `ButterworthFilter` against scipy butter + sosfiltfilt through nilearn.signal.butterworth
/// (Tests/CrossCheck/signal_butterworth.py) over TRs, orders, kinds and clamped cut-offs.
final class SignalButterworthTests: XCTestCase {
    func testMatchesScipySosfiltfilt() throws {
        let dir = try SignalTestData.temporaryDirectory("butter")
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SignalTestRandom(seed: 31)
        var walk = 0.0
        let x = (0..<1200).map { i -> Double in walk += rng.normal(); return 50 + walk + 3 * sin(Double(i) / 7) + rng.normal() }
        try writeFloat64(x, to: dir.appendingPathComponent("x.f64"))
        // (name, n, TR, low, high, order)
        let cases: [(String, Int, Double, Double?, Double?, Int)] = [
            ("hcp_band", 1200, 0.72, 0.1, 0.01, 5), ("tr2_band", 200, 2, 0.1, 0.01, 5), ("tr2_low", 19, 2, 0.08, nil, 5),
            ("tr2_high", 19, 2, nil, 0.01, 5), ("tr3_band_wide", 150, 3, 0.15, 0.009, 5), ("tr1_band_o2", 300, 1, 0.2, 0.05, 2),
            ("tr1_low_o4", 300, 1, 0.2, nil, 4), ("tr1_high_o3", 300, 1, nil, 0.05, 3), ("clamped_low", 120, 2, 0.4, nil, 5),
            ("clamped_band", 120, 2, 0.25, 0.05, 5), ("negative_high", 120, 2, 0.1, -0.01, 5), ("tr2_band_min", 34, 2, 0.1, 0.01, 5),
        ]
        let json: [[String: Any]] = cases.map { c in
            ["name": c.0, "x": "x.f64", "n": c.1, "tr": c.2, "low_pass": c.3 as Any? ?? NSNull(), "high_pass": c.4 as Any? ?? NSNull(), "order": c.5]
        }
        try JSONSerialization.data(withJSONObject: json).write(to: dir.appendingPathComponent("cases.json"))
        try SignalTestData.runCrossCheckScript("signal_butterworth.py", [dir.path])
        var worst = 0.0
        for c in cases {
            let f = try XCTUnwrap(ButterworthFilter.design(order: c.5, lowPass: c.3, highPass: c.4, samplingRate: 1 / c.2))
            let padlen = try readFloat64(dir.appendingPathComponent("\(c.0).padlen.f64"))[0]
            XCTAssertEqual(Double(f.padLength), padlen, c.0)
            let y = try f.filtfilt(Array(x[0..<c.1]))
            let ref = try readFloat64(dir.appendingPathComponent("\(c.0).ref.f64"))
            let scale = max(1, ref.map(abs).max()!)
            let d = SignalTestData.maxAbsDifference(y, ref) / scale
            worst = max(worst, d)
            XCTAssertLessThanOrEqual(d, 1e-9, "\(c.0): relative max |Δ| \(d)")
        }
        print("Butterworth vs scipy: worst relative max |Δ| \(worst)")
    }
}
