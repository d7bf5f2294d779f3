import Foundation
import XCTest
import TestSupport
@testable import Numerics

/// `SignalClean` against nilearn 0.14.1 `signal.clean` (Tests/CrossCheck/signal_clean.py) for every
/// option combination, on seeded synthetic data with drifts, confound mixtures and noise.
final class SignalCleanCrossCheckTests: XCTestCase {
    struct Case {
        var name: String
        var options: SignalCleanOptions
        var confounds: String?   // "c" | "c0" (with an all-zero column) | nil
        var reference: String
        var signals = "s"
    }

    static let t = 120, v = 48, k = 6, tr = 2.0
    /// Censors head, tail, interior runs; nilearn 0.14.1's ~index bug changes rows 0, 1 and 119.
    static let mask: [Bool] = (0..<120).map { ![0, 1, 17, 18, 19, 40, 63, 64, 90, 119].contains($0) }

    func testCleanMatchesNilearnForEveryOptionCombination() throws {
        let dir = try SignalTestData.temporaryDirectory("clean")
        defer { try? FileManager.default.removeItem(at: dir) }
        let t = Self.t, v = Self.v, k = Self.k
        let conf = SignalTestData.confounds(t: t, k: k, seed: 11)
        let signals = SignalTestData.signals(t: t, v: v, confounds: conf, seed: 12)
        var confZero = Matrix(rows: t, columns: k + 1)
        for r in 0..<t { for c in 0..<k { confZero[r, c + (c >= 2 ? 1 : 0)] = conf[r, c] } }  // column 2 all zeros
        var dirty = signals
        dirty[3, 0] = .nan; dirty[50, 5] = .infinity; dirty[7, 9] = -.infinity; dirty[8, 9] = .nan
        try writeFloat64(signals.data, to: dir.appendingPathComponent("s.f64"))
        try writeFloat64(dirty.data, to: dir.appendingPathComponent("dirty.f64"))
        try writeFloat64(conf.data, to: dir.appendingPathComponent("c.f64"))
        try writeFloat64(confZero.data, to: dir.appendingPathComponent("c0.f64"))
        let confCos = conf.appendingColumns(Matrix(columns: [(0..<t).map { (2.0 / Double(t)).squareRoot() * cos(Double.pi / Double(t) * (Double($0) + 0.5)) + 0.001 * sin(Double($0)) }]))
        try writeFloat64(confCos.data, to: dir.appendingPathComponent("ccos.f64"))

        let filters: [(String, SignalCleanOptions.TemporalFilter?, Double?, Double?)] = [
            ("none", nil, nil, nil), ("band", .butterworth, 0.1, 0.01), ("low", .butterworth, 0.08, nil), ("high", .butterworth, nil, 0.01),
        ]
        let standardizations: [(String, SignalCleanOptions.Standardization?)] = [("zs", .zscoreSample), ("psc", .psc), ("raw", nil)]
        var cases: [Case] = []
        for detrend in [true, false] {
            for confMode in ["none", "std", "max"] {
                for (fname, filter, lp, hp) in filters {
                    for (sname, standardize) in standardizations {
                        for masked in [false, true] {
                            var o = SignalCleanOptions(detrend: detrend, standardize: standardize, standardizeConfounds: confMode != "max",
                                                       filter: filter, lowPass: lp, highPass: hp, repetitionTime: Self.tr)
                            if masked { o.sampleMask = Self.mask }
                            cases.append(Case(name: "d\(detrend ? 1 : 0)_\(confMode)_\(fname)_\(sname)_m\(masked ? 1 : 0)", options: o,
                                              confounds: confMode == "none" ? nil : "c",
                                              reference: masked && filter != nil ? "nilearn_fixed_interp" : "nilearn"))
                        }
                    }
                }
            }
        }
        // nilearn 0.14.1 bug-for-bug censoring.
        for (fname, filter, lp, hp) in filters.dropFirst() {
            var o = SignalCleanOptions(filter: filter, lowPass: lp, highPass: hp, repetitionTime: Self.tr, sampleMask: Self.mask)
            o.censoringInterpolation = .nilearn0141Compatible
            cases.append(Case(name: "compat_\(fname)", options: o, confounds: "c", reference: "nilearn"))
        }
        // zscore with ddof 0 (not in nilearn 0.14.1: reference = clean(standardize=None) then numpy).
        for masked in [false, true] {
            var o = SignalCleanOptions(standardize: .zscore, lowPass: 0.1, highPass: 0.01, repetitionTime: Self.tr)
            if masked { o.sampleMask = Self.mask }
            cases.append(Case(name: "zscore0_m\(masked ? 1 : 0)", options: o, confounds: "c", reference: "zscore_ddof0"))
        }
        // DPABI ideal filter (numpy reference in the script).
        for detrend in [true, false] {
            for withConf in [true, false] {
                let o = SignalCleanOptions(detrend: detrend, filter: .idealFFT, lowPass: 0.08, highPass: 0.01, repetitionTime: Self.tr)
                cases.append(Case(name: "ideal_d\(detrend ? 1 : 0)_c\(withConf ? 1 : 0)", options: o, confounds: withConf ? "c" : nil, reference: "ideal"))
            }
        }
        // Cut-off at/above Nyquist (0.25 Hz at TR 2): nilearn lowers it to nyq·(1 − 10 ε_f32).
        cases.append(Case(name: "nyquist_band", options: SignalCleanOptions(lowPass: 0.3, highPass: 0.01, repetitionTime: Self.tr), confounds: "c", reference: "nilearn"))
        cases.append(Case(name: "nyquist_low", options: SignalCleanOptions(lowPass: 0.25, repetitionTime: Self.tr), confounds: nil, reference: "nilearn"))
        // An all-zero confound column (dropped by the |R_ii| > 100 ε rule).
        for std in [true, false] {
            cases.append(Case(name: "zero_confound_\(std)", options: SignalCleanOptions(standardizeConfounds: std, lowPass: 0.1, highPass: 0.01, repetitionTime: Self.tr),
                              confounds: "c0", reference: "nilearn"))
        }
        // nilearn's cosine filter (DCT drifts appended to the confounds; censoring before detrend).
        for detrend in [true, false] {
            for withConf in [true, false] {
                for masked in [false, true] {
                    var o = SignalCleanOptions(detrend: detrend, filter: .cosine, highPass: 0.01, repetitionTime: Self.tr)
                    if masked { o.sampleMask = Self.mask }
                    cases.append(Case(name: "cosine_d\(detrend ? 1 : 0)_c\(withConf ? 1 : 0)_m\(masked ? 1 : 0)", options: o,
                                      confounds: withConf ? "c" : nil, reference: "nilearn"))
                }
            }
        }
        // A user confound that is already a DCT term: nilearn then adds no cosine terms.
        cases.append(Case(name: "cosine_user", options: SignalCleanOptions(filter: .cosine, highPass: 0.01, repetitionTime: Self.tr),
                          confounds: "ccos", reference: "nilearn"))
        // NaN / Inf with ensure_finite.
        cases.append(Case(name: "ensure_finite", options: SignalCleanOptions(lowPass: 0.1, highPass: 0.01, repetitionTime: Self.tr, ensureFinite: true),
                          confounds: "c", reference: "nilearn", signals: "dirty"))

        var json: [[String: Any]] = []
        for c in cases {
            let o = c.options
            var entry: [String: Any] = [
                "name": c.name, "T": t, "V": v, "signals": "\(c.signals).f64", "detrend": o.detrend,
                "standardize": o.standardize.map { $0 == .zscore ? "zscore_sample" : $0.rawValue } as Any? ?? NSNull(),
                "standardize_confounds": o.standardizeConfounds,
                "filter": o.filter.map { $0.rawValue as Any } ?? false,
                "low_pass": o.lowPass as Any? ?? NSNull(), "high_pass": o.highPass as Any? ?? NSNull(),
                "t_r": o.repetitionTime!, "reference": c.reference, "ensure_finite": o.ensureFinite,
                "mask": o.sampleMask as Any? ?? NSNull(),
            ]
            if let cf = c.confounds { entry["confounds"] = "\(cf).f64"; entry["K"] = cf == "c" ? k : k + 1 }
            json.append(entry)
        }
        try JSONSerialization.data(withJSONObject: json).write(to: dir.appendingPathComponent("cases.json"))
        try SignalTestData.runCrossCheckScript("signal_clean.py", [dir.path])

        var worstZ = 0.0, worstRelative = 0.0
        for c in cases {
            let input = c.signals == "dirty" ? dirty : signals
            let confounds: Matrix? = c.confounds.map { ["c": conf, "c0": confZero, "ccos": confCos][$0]! }
            let out = try SignalClean(options: c.options).clean(input, confounds: confounds)
            let ref = try readFloat64(dir.appendingPathComponent("\(c.name).ref.f64"))
            XCTAssertEqual(out.data.count, ref.count, "\(c.name): shape")
            guard out.data.count == ref.count else { continue }
            let diff = SignalTestData.maxAbsDifference(out.data, ref)
            let scale = max(1, ref.reduce(0) { max($0, abs($1)) })
            if c.options.standardize == .zscoreSample || c.options.standardize == .zscore {
                worstZ = max(worstZ, diff)
                XCTAssertLessThanOrEqual(diff, 1e-10, "\(c.name): max |Δ| = \(diff)")
            } else {
                worstRelative = max(worstRelative, diff / scale)
                XCTAssertLessThanOrEqual(diff / scale, 1e-11, "\(c.name): max |Δ| = \(diff) at scale \(scale)")
            }
            XCTAssertFalse(out.data.contains { $0.isNaN }, "\(c.name): NaN in output")
        }
        print("SignalClean vs nilearn: \(cases.count) cases; max |Δ| z-scored \(worstZ); max relative |Δ| others \(worstRelative)")
    }

    /// The float32 in-place entry point gives the Double result rounded to float32.
    func testFloatInPlaceMatchesDouble() throws {
        let conf = SignalTestData.confounds(t: 100, k: 4, seed: 3)
        let signals = SignalTestData.signals(t: 100, v: 130, confounds: conf, seed: 4)
        var o = SignalCleanOptions(lowPass: 0.1, highPass: 0.01, repetitionTime: 2)
        o.sampleMask = (0..<100).map { $0 % 17 != 5 }
        let clean = SignalClean(options: o)
        let ref = try clean.clean(Matrix(rows: 100, columns: 130, data: signals.data.map { Double(Float($0)) }), confounds: conf)
        var buffer = signals.data.map { Float($0) }
        let rows = try clean.clean(inPlace: &buffer, timePoints: 100, confounds: conf)
        XCTAssertEqual(rows, ref.rows)
        XCTAssertEqual(buffer.count, ref.data.count)
        XCTAssertEqual(SignalTestData.maxAbsDifference(buffer.map { Double($0) }, ref.data.map { Double(Float($0)) }), 0)
    }
}
