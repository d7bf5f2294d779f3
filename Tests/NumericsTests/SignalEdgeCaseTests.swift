import Foundation
import XCTest
@testable import Numerics

/// Edge cases of `SignalClean`, `ButterworthFilter`, `IdealBandPassFilter` and `RadixTwoFFT`
/// (no Python needed).
final class SignalEdgeCaseTests: XCTestCase {
    func testPadLengthsMatchScipyDefaults() throws {
        let band = try XCTUnwrap(ButterworthFilter.design(lowPass: 0.1, highPass: 0.01, samplingRate: 0.5))
        let low = try XCTUnwrap(ButterworthFilter.design(lowPass: 0.1, highPass: nil, samplingRate: 0.5))
        let high = try XCTUnwrap(ButterworthFilter.design(lowPass: nil, highPass: 0.01, samplingRate: 0.5))
        XCTAssertEqual([band.padLength, low.padLength, high.padLength], [33, 18, 18])
        XCTAssertEqual([band.sections.count, low.sections.count, high.sections.count], [5, 3, 3])
        XCTAssertNil(try ButterworthFilter.design(lowPass: nil, highPass: nil, samplingRate: 0.5))
        // DC gain 1 for low-pass, 0 for high-pass and band-pass.
        func dcGain(_ f: ButterworthFilter) -> Double { f.sections.reduce(1) { $0 * ($1[0] + $1[1] + $1[2]) / ($1[3] + $1[4] + $1[5]) } }
        XCTAssertEqual(dcGain(low), 1, accuracy: 1e-12)
        XCTAssertEqual(dcGain(high), 0, accuracy: 1e-12)
        XCTAssertEqual(dcGain(band), 0, accuracy: 1e-12)
        // A constant passes a low-pass unchanged (steady-state initial conditions).
        let y = try low.filtfilt([Double](repeating: 3, count: 40))
        XCTAssertLessThanOrEqual(y.map { abs($0 - 3) }.max()!, 1e-12)
    }

    func testSeriesTooShortForBandPassNamesMinimumLength() throws {
        let s = SignalTestData.signals(t: 20, v: 3, confounds: nil, seed: 1)
        let band = SignalClean(options: SignalCleanOptions(lowPass: 0.1, highPass: 0.01, repetitionTime: 2))
        XCTAssertThrowsError(try band.clean(s)) { error in
            let e = error as? SignalCleanError
            XCTAssertEqual(e?.code, .seriesTooShort)
            XCTAssertTrue(e?.message.contains("at least 34 volumes") ?? false, e?.message ?? "")
            XCTAssertTrue(e?.message.contains("has 20") ?? false)
        }
        // 20 volumes: low-pass or high-pass alone works (padlen 18), as in nilearn.
        XCTAssertNoThrow(try SignalClean(options: SignalCleanOptions(lowPass: 0.1, repetitionTime: 2)).clean(s))
        XCTAssertNoThrow(try SignalClean(options: SignalCleanOptions(highPass: 0.01, repetitionTime: 2)).clean(s))
        // Exactly padlen + 1 = 34 works; 33 does not.
        XCTAssertNoThrow(try band.clean(SignalTestData.signals(t: 34, v: 2, confounds: nil, seed: 2)))
        XCTAssertThrowsError(try band.clean(SignalTestData.signals(t: 33, v: 2, confounds: nil, seed: 2)))
        // Censoring shortens the filtered series: head/tail drops count.
        var o = SignalCleanOptions(lowPass: 0.1, highPass: 0.01, repetitionTime: 2)
        o.sampleMask = (0..<40).map { $0 >= 7 }
        XCTAssertThrowsError(try SignalClean(options: o).clean(SignalTestData.signals(t: 40, v: 2, confounds: nil, seed: 3))) {
            XCTAssertEqual(($0 as? SignalCleanError)?.code, .seriesTooShort)
        }
    }

    func testConstantSignalsGiveFiniteOutput() throws {
        let constant = Matrix(rows: 60, columns: 3, data: (0..<180).map { [5.0, 0.0, -2.0][$0 % 3] })
        let conf = SignalTestData.confounds(t: 60, k: 2, seed: 4)
        for standardize in [SignalCleanOptions.Standardization.zscoreSample, .zscore, .psc] {
            let out = try SignalClean(options: SignalCleanOptions(standardize: standardize, lowPass: 0.1, highPass: 0.01, repetitionTime: 2)).clean(constant, confounds: conf)
            XCTAssertTrue(out.data.allSatisfy { $0.isFinite && abs($0) < 1e-9 }, "\(standardize): \(out.data.prefix(6))")
        }
        // No detrend, no filter, psc: the mean-0 column is set to 0 (nilearn), others are 0 change.
        let out = try SignalClean(options: SignalCleanOptions(detrend: false, standardize: .psc, filter: nil)).clean(constant)
        XCTAssertTrue(out.data.allSatisfy { $0 == 0 })
    }

    func testNonFiniteInput() throws {
        var s = SignalTestData.signals(t: 50, v: 4, confounds: nil, seed: 5)
        s[10, 1] = .nan; s[11, 2] = .infinity
        let cleaned = try SignalClean(options: SignalCleanOptions(lowPass: 0.1, repetitionTime: 2, ensureFinite: true)).clean(s)
        XCTAssertTrue(cleaned.data.allSatisfy { $0.isFinite })
        // Without ensureFinite a NaN propagates through its own column only (as nilearn).
        let raw = try SignalClean(options: SignalCleanOptions(lowPass: 0.1, repetitionTime: 2)).clean(s)
        XCTAssertTrue(raw.column(0).allSatisfy { $0.isFinite })
        XCTAssertTrue(raw.column(1).contains { $0.isNaN })
    }

    func testAllZeroConfoundColumnIsDropped() throws {
        var conf = SignalTestData.confounds(t: 80, k: 3, seed: 6)
        conf = conf.appendingColumns(Matrix(rows: 80, columns: 1))
        for std in [true, false] {
            var o = SignalCleanOptions(standardizeConfounds: std)
            o.filter = nil
            let plan = try SignalCleanPlan(options: o, timePoints: 80, confounds: conf)
            XCTAssertEqual(plan.rank, 3)
            // Same result as without the zero column.
            let s = SignalTestData.signals(t: 80, v: 5, confounds: nil, seed: 7)
            let a = try SignalClean(options: o).clean(s, confounds: conf)
            let b = try SignalClean(options: o).clean(s, confounds: conf.columns(0..<3))
            XCTAssertLessThanOrEqual(SignalTestData.maxAbsDifference(a.data, b.data), 1e-12)
        }
    }

    func testInvalidInputsAreErrors() {
        let s = SignalTestData.signals(t: 50, v: 2, confounds: nil, seed: 8)
        func code(_ o: SignalCleanOptions, confounds: Matrix? = nil) -> SignalCleanError.Code? {
            do { _ = try SignalClean(options: o).clean(s, confounds: confounds); return nil } catch { return (error as? SignalCleanError)?.code }
        }
        XCTAssertEqual(code(SignalCleanOptions(lowPass: 0.01, highPass: 0.1)), .invalidParameter)
        XCTAssertEqual(code(SignalCleanOptions(lowPass: 0.1, repetitionTime: nil)), .invalidParameter)
        XCTAssertEqual(code(SignalCleanOptions(highPass: 0, repetitionTime: 2)), .invalidParameter)
        XCTAssertEqual(code(SignalCleanOptions(), confounds: Matrix(rows: 49, columns: 2)), .shapeMismatch)
        XCTAssertEqual(code(SignalCleanOptions(sampleMask: [Bool](repeating: false, count: 50))), .allVolumesRemoved)
        XCTAssertEqual(code(SignalCleanOptions(sampleMask: [true])), .shapeMismatch)
        var buffer: [Float] = [1, 2, 3]
        XCTAssertThrowsError(try SignalClean().clean(inPlace: &buffer, timePoints: 2))
    }

    func testNoOptionsIsIdentityAndSingleVolume() throws {
        let s = SignalTestData.signals(t: 30, v: 3, confounds: nil, seed: 9)
        let out = try SignalClean(options: SignalCleanOptions(detrend: false, standardize: nil, filter: nil)).clean(s)
        XCTAssertEqual(out, s)
        // One volume: detrend and standardise are skipped (nilearn warns), values unchanged.
        let one = Matrix(rows: 1, columns: 3, data: [1, 2, 3])
        XCTAssertEqual(try SignalClean(options: SignalCleanOptions(filter: nil)).clean(one), one)
    }

    /// nilearn 0.14.1 indexes `volumes[~sample_mask]` with an integer index array (bitwise not), so
    /// it interpolates the wrong volumes; the compatible mode reproduces it, the default does not.
    func testCensoringModesDifferWhereNilearnIsWrong() throws {
        let s = SignalTestData.signals(t: 60, v: 4, confounds: nil, seed: 12)
        var o = SignalCleanOptions(lowPass: 0.1, highPass: 0.01, repetitionTime: 2)
        o.sampleMask = (0..<60).map { ![0, 1, 20, 21, 59].contains($0) }
        let intended = try SignalClean(options: o).clean(s)
        o.censoringInterpolation = .nilearn0141Compatible
        let compatible = try SignalClean(options: o).clean(s)
        XCTAssertEqual(intended.rows, 55)
        XCTAssertEqual(compatible.rows, 55)
        XCTAssertGreaterThan(SignalTestData.maxAbsDifference(intended.data, compatible.data), 1e-3)
        // A mask without censored volumes is a no-op in both modes.
        o.sampleMask = [Bool](repeating: true, count: 60)
        let all = try SignalClean(options: o).clean(s)
        XCTAssertEqual(all, try SignalClean(options: SignalCleanOptions(lowPass: 0.1, highPass: 0.01, repetitionTime: 2)).clean(s))
    }

    func testFFTRoundTripAndKnownTransform() {
        let n = 16
        let fft = RadixTwoFFT(count: n)
        var re = (0..<n).map { sin(Double($0)) + 0.5 }, im = [Double](repeating: 0, count: n)
        let original = re
        fft.forward(re: &re, im: &im)
        // Naive DFT bin 3.
        var dr = 0.0, di = 0.0
        for t in 0..<n { dr += original[t] * cos(-2 * .pi * 3 * Double(t) / Double(n)); di += original[t] * sin(-2 * .pi * 3 * Double(t) / Double(n)) }
        XCTAssertEqual(re[3], dr, accuracy: 1e-12)
        XCTAssertEqual(im[3], di, accuracy: 1e-12)
        XCTAssertEqual(re[0], original.reduce(0, +), accuracy: 1e-12)
        fft.inverse(re: &re, im: &im)
        XCTAssertLessThanOrEqual(SignalTestData.maxAbsDifference(re, original), 1e-14)
        XCTAssertLessThanOrEqual(im.map(abs).max()!, 1e-14)
        XCTAssertEqual(RadixTwoFFT.nextPowerOfTwo(200), 256)
        XCTAssertEqual(RadixTwoFFT.nextPowerOfTwo(256), 256)
    }

    func testIdealFilterKeepsInBandSineAndRemovesOutOfBand() throws {
        // T = 256 (no padding), TR 2: bins k/(512 s). In-band 0.05 Hz ≈ bin 25.6 → use exact bin 25.
        let t = 256, tr = 2.0
        let fIn = 25.0 / (Double(t) * tr), fOut = 100.0 / (Double(t) * tr)
        let x = (0..<t).map { 7 + sin(2 * .pi * fIn * tr * Double($0)) + cos(2 * .pi * fOut * tr * Double($0)) }
        let f = try IdealBandPassFilter(length: t, repetitionTime: tr, lowPass: 0.08, highPass: 0.01)
        let y = f.apply(x)
        for i in 0..<t { XCTAssertEqual(y[i], 7 + sin(2 * .pi * fIn * tr * Double(i)), accuracy: 1e-10) }
        XCTAssertThrowsError(try IdealBandPassFilter(length: 10, repetitionTime: 2, lowPass: 0.01, highPass: 0.05))
    }
}
