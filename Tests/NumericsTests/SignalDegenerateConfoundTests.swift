import XCTest
@testable import Numerics

/// Confound columns with nothing left after detrending and filtering, or repeating earlier ones,
/// are dropped: adding them changes nothing (nilearn would z-score their rounding noise to unit
/// variance and regress it out of every voxel).
final class SignalDegenerateConfoundTests: XCTestCase {
    func testConstantTrendAndRepeatedColumnsLeaveTheCleanedSignalsUnchanged() throws {
        let t = 120, v = 16, k = 3
        var state: UInt64 = 7
        func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53) - 0.5
        }
        var signals = Matrix(rows: t, columns: v)
        for r in 0..<t { for c in 0..<v { signals[r, c] = 100 + next() + 0.01 * Double(r) } }
        var base = Matrix(rows: t, columns: k)
        for r in 0..<t { for c in 0..<k { base[r, c] = next() } }
        var extended = Matrix(rows: t, columns: k + 4)
        for r in 0..<t {
            for c in 0..<k { extended[r, c] = base[r, c] }
            extended[r, k] = 1                         // fMRIPrep-style "constant"
            extended[r, k + 1] = Double(r) / Double(t) // "linearTrend"
            extended[r, k + 2] = base[r, 0]            // a duplicated column
            extended[r, k + 3] = 3.7 * base[r, 1] - 2  // a scaled and shifted duplicate
        }
        for filter in [SignalCleanOptions.TemporalFilter.butterworth, .idealFFT] {
            var options = SignalCleanOptions(detrend: true, standardize: .zscoreSample, filter: filter, lowPass: 0.1, highPass: 0.01, repetitionTime: 2)
            options.butterworthOrder = 5
            let cleaner = SignalClean(options: options)
            let plain = try cleaner.clean(signals, confounds: base)
            let withDegenerate = try cleaner.clean(signals, confounds: extended)
            var worst = 0.0
            for i in plain.data.indices { worst = max(worst, abs(plain.data[i] - withDegenerate.data[i])) }
            XCTAssertLessThanOrEqual(worst, 1e-6, "\(filter): adding degenerate columns moved the cleaned signals by \(worst)")
            let report = try cleaner.report(timePoints: t, confounds: extended)
            XCTAssertEqual(report.droppedConfounds.map(\.column), [k, k + 1, k + 2, k + 3])
            XCTAssertEqual(report.droppedConfounds[0].reason, "nothing left after detrending and filtering")
            XCTAssertEqual(report.droppedConfounds[2].reason, "a combination of the columns before it")
            XCTAssertEqual(report.confoundRank, k)
        }
        // Without detrending, a constant is not degenerate by this rule (the QR keeps what it keeps).
        let noDetrend = SignalClean(options: SignalCleanOptions(detrend: false, standardize: nil, filter: nil))
        XCTAssertEqual(try noDetrend.report(timePoints: t, confounds: base).droppedConfounds, [])
    }
}
