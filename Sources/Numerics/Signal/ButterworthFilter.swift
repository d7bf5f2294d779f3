import CKernels
import Foundation

/// A digital Butterworth filter in second-order sections, applied forward and backward as
/// `scipy.signal.sosfiltfilt` — the filter of `nilearn.signal.butterworth` / `clean`.
///
/// Design (identical in exact arithmetic to `scipy.signal.butter(N, Wn, btype, output="sos", fs=fs)`):
/// 1. analog prototype: poles p_m = −exp(iπm/(2N)), m = −N+1, −N+3, …, N−1; gain 1;
/// 2. pre-warp: w = 4·tan(π·Wn/2) with Wn = cutoff / Nyquist;
/// 3. low-pass p·w; high-pass w/p (N zeros at 0); band-pass with w₀ = √(w₁w₂), bw = w₂ − w₁:
///    p·bw/2 ± √((p·bw/2)² − w₀²) (N zeros at 0, gain bw^N);
/// 4. bilinear transform z = (4 + s)/(4 − s), extra zeros at −1, k·Re(Π(4 − z)/Π(4 − p));
/// 5. second-order sections with scipy `zpk2sos`'s "nearest" pairing: conjugate pole pairs (or
///    pairs of real poles) each with the two zeros nearest to them; a last real pole makes a
///    first-order section `[b0, b1, 0, 1, a1, 0]`; poles closest to the unit circle come last; the
///    gain goes into the first section. Ties and rounding may still order sections differently from
///    scipy; the transfer function is the same and filtered outputs agree to ~1e-12 (worse only
///    for cut-offs clamped just below Nyquist, where a pole sits ~1e-6 from z = −1).
///
/// Zero-phase application (scipy `sosfiltfilt`, `padtype="odd"`, default `padlen`):
/// - `padLength` = 3 · (2·sections + 1 − min(#{b₂ = 0}, #{a₂ = 0})): 33 for a 5th-order band-pass,
///   18 for a 5th-order low- or high-pass;
/// - odd extension: x₀ − (x[padLength…1] − x₀) on the left, the mirror on the right;
/// - initial state `sosfilt_zi · ext[0]` forward, `sosfilt_zi · y[last]` backward (transposed
///   direct form II, as `sosfilt`);
/// - a series of length ≤ `padLength` is an error (scipy: "must be greater than padlen").
///
/// Cut-off policy of nilearn `_check_wn`: a cut-off ≥ Nyquist is lowered to
/// Nyquist·(1 − 10·ε_float32); a negative cut-off is raised to Nyquist·ε_float32. A cut-off of 0
/// is an error here (scipy rejects it too). `highPass ≥ lowPass` is an error, as in nilearn.
public struct ButterworthFilter: Sendable {
    /// The kind of response.
    public enum Kind: String, Sendable { case lowPass = "low", highPass = "high", bandPass = "band" }

    public let kind: Kind
    public let order: Int
    /// The cut-offs actually used, in Hz, after nilearn's clamping ([high, low] for band-pass).
    public let criticalFrequencies: [Double]
    /// Second-order sections, each `[b0, b1, b2, 1, a1, a2]`.
    public let sections: [[Double]]
    /// scipy's default `padlen` for `sosfiltfilt`.
    public let padLength: Int
    /// `sosfilt_zi`: steady-state section states for a unit step, `[z0, z1]` per section.
    public let initialStates: [[Double]]
    /// Notes on adjusted cut-offs (nilearn emits these as warnings).
    public let notes: [String]
    /// For up to five sections, the C cascade's arguments: [b0, b1, b2, a1, a2] per section and
    /// the initial states, padded with identity sections (b = [1, 0, 0], a = [0, 0], zero state).
    private let cascadeCoefficients: [Double], cascadeStates: [Double]

    /// The minimum series length the zero-phase filter accepts (`padLength + 1`).
    public var minimumLength: Int { padLength + 1 }

    /// Designs the filter.
    ///
    /// - Parameters:
    ///   - order: Butterworth order N (nilearn: 5).
    ///   - lowPass: low-pass cut-off in Hz (`nil`: none).
    ///   - highPass: high-pass cut-off in Hz (`nil`: none).
    ///   - samplingRate: samples per second (1 / TR).
    /// - Returns: `nil` when neither cut-off is given, or when nilearn would return the signal
    ///   unfiltered (both band edges clamped to the same value).
    /// - Throws: `SignalCleanError` for a non-positive sampling rate or cut-off, or high ≥ low.
    public static func design(order: Int = 5, lowPass: Double?, highPass: Double?, samplingRate: Double) throws -> ButterworthFilter? {
        if lowPass == nil && highPass == nil { return nil }
        guard samplingRate > 0, samplingRate.isFinite else {
            throw SignalCleanError(.invalidParameter, "sampling rate must be positive and finite, got \(samplingRate)")
        }
        guard order >= 1 else { throw SignalCleanError(.invalidParameter, "Butterworth order must be ≥ 1, got \(order)") }
        if let lp = lowPass, let hp = highPass, hp >= lp {
            throw SignalCleanError(.invalidParameter, "high-pass cut-off (\(hp) Hz) is greater than or equal to the low-pass cut-off (\(lp) Hz)")
        }
        let nyq = samplingRate * 0.5
        let epsF = Double(Float.ulpOfOne)
        var notes: [String] = []
        func check(_ name: String, _ f: Double) throws -> Double {
            guard f.isFinite else { throw SignalCleanError(.invalidParameter, "\(name) cut-off is not finite") }
            if f >= nyq {
                let g = nyq - nyq * 10 * epsF
                notes.append("\(name) cut-off \(f) Hz is at or above Nyquist; lowered to \(g) Hz")
                return g
            } else if f < 0 {
                let g = nyq * epsF
                notes.append("\(name) cut-off \(f) Hz is negative; set to \(g) Hz")
                return g
            } else if f == 0 {
                throw SignalCleanError(.invalidParameter, "\(name) cut-off of 0 Hz cannot be designed (scipy requires 0 < Wn < 1)")
            }
            return f
        }
        var critical: [Double] = []
        if let hp = highPass { critical.append(try check("high-pass", hp)) }
        if let lp = lowPass { critical.append(try check("low-pass", lp)) }
        let kind: Kind
        if critical.count == 2 {
            if critical[0] == critical[1] { return nil }
            kind = .bandPass
        } else {
            kind = highPass != nil ? .highPass : .lowPass
        }
        return ButterworthFilter(order: order, kind: kind, critical: critical, nyquist: nyq, notes: notes)
    }

    private init(order n: Int, kind: Kind, critical: [Double], nyquist: Double, notes: [String]) {
        self.kind = kind
        self.order = n
        self.criticalFrequencies = critical
        self.notes = notes
        // 1. Analog prototype.
        var poles: [SignalComplex] = []
        var m = -n + 1
        while m < n {
            let theta = Double.pi * Double(m) / Double(2 * n)
            poles.append(m == 0 ? SignalComplex(-1, 0) : SignalComplex(-cos(theta), -sin(theta)))
            m += 2
        }
        var zeros: [SignalComplex] = []
        var gain = 1.0
        // 2. Pre-warp (scipy works at fs = 2 after normalising Wn to Nyquist).
        let warped = critical.map { 4 * tan(Double.pi * ($0 / nyquist) / 2) }
        // 3. Frequency transform.
        switch kind {
        case .lowPass:
            let w = warped[0]
            poles = poles.map { $0 * w }
            gain = pow(w, Double(n))
        case .highPass:
            let w = warped[0]
            var prodNegP = SignalComplex(1)
            for p in poles { prodNegP = prodNegP * (-p) }
            poles = poles.map { SignalComplex(w) / $0 }
            zeros = [SignalComplex](repeating: SignalComplex(0), count: n)
            gain = (SignalComplex(1) / prodNegP).re
        case .bandPass:
            let bw = warped[1] - warped[0]
            let wo = (warped[0] * warped[1]).squareRoot()
            var out: [SignalComplex] = []
            for p in poles {
                let pl = p * (bw / 2)
                let root = (pl * pl - SignalComplex(wo * wo)).squareRoot
                out.append(pl + root)
                out.append(pl - root)
            }
            poles = out
            zeros = [SignalComplex](repeating: SignalComplex(0), count: n)
            gain = pow(bw, Double(n))
        }
        // 4. Bilinear transform at fs = 2 (fs2 = 4).
        let fs2 = SignalComplex(4)
        var num = SignalComplex(1), den = SignalComplex(1)
        for z in zeros { num = num * (fs2 - z) }
        for p in poles { den = den * (fs2 - p) }
        let zd = zeros.map { (fs2 + $0) / (fs2 - $0) } + [SignalComplex](repeating: SignalComplex(-1), count: poles.count - zeros.count)
        let pd = poles.map { (fs2 + $0) / (fs2 - $0) }
        gain *= (num / den).re
        // 5. Second-order sections.
        var complexPoles: [SignalComplex] = []
        var realPoles: [Double] = []
        for p in pd {
            if abs(p.im) <= 1e-13 * max(p.modulus, 1e-300) { realPoles.append(p.re) } else if p.im > 0 { complexPoles.append(p) }
        }
        var zerosLeft = zd.map { $0.re }  // all zeros are real (±1) for Butterworth low/high/band.
        // scipy zpk2sos(pairing="nearest"): repeatedly take the pole closest to the unit circle,
        // pair it with its conjugate (or the real pole closest to the circle) and with the zeros
        // nearest to it; the sections so built are reversed, so the poles closest to the circle
        // come last; the gain goes into the first section.
        func takeNearestZero(to p: SignalComplex) -> Double? {
            guard !zerosLeft.isEmpty else { return nil }
            var best = 0
            for i in zerosLeft.indices where (SignalComplex(zerosLeft[i]) - p).modulus < (SignalComplex(zerosLeft[best]) - p).modulus { best = i }
            return zerosLeft.remove(at: best)
        }
        var built: [[Double]] = []
        while !complexPoles.isEmpty || !realPoles.isEmpty {
            let ci = complexPoles.indices.min { abs(1 - complexPoles[$0].modulus) < abs(1 - complexPoles[$1].modulus) }
            let ri = realPoles.indices.min { abs(1 - abs(realPoles[$0])) < abs(1 - abs(realPoles[$1])) }
            let useReal: Bool
            switch (ci, ri) {
            case let (c?, r?): useReal = abs(1 - abs(realPoles[r])) < abs(1 - complexPoles[c].modulus)
            case (nil, _?): useReal = true
            default: useReal = false
            }
            if useReal {
                let p1 = realPoles.remove(at: ri!)
                if realPoles.isEmpty {
                    let z = takeNearestZero(to: SignalComplex(p1))
                    built.append([1, z.map { -$0 } ?? 0, 0, 1, -p1, 0])
                } else {
                    let r2 = realPoles.indices.min { abs(abs(realPoles[$0]) - 1) < abs(abs(realPoles[$1]) - 1) }!
                    let p2 = realPoles.remove(at: r2)
                    let z = [takeNearestZero(to: SignalComplex(p1)), takeNearestZero(to: SignalComplex(p1))].compactMap { $0 }
                    let b1 = -(z.reduce(0, +)), b2 = z.count == 2 ? z[0] * z[1] : 0
                    built.append([1, b1, b2, 1, -(p1 + p2), p1 * p2])
                }
            } else {
                let p = complexPoles.remove(at: ci!)
                let z = [takeNearestZero(to: p), takeNearestZero(to: p)].compactMap { $0 }
                let b1 = -(z.reduce(0, +)), b2 = z.count == 2 ? z[0] * z[1] : 0
                built.append([1, b1, b2, 1, -2 * p.re, p.re * p.re + p.im * p.im])
            }
        }
        var sos = Array(built.reversed())
        for c in 0..<3 { sos[0][c] *= gain }
        sections = sos
        // scipy sosfiltfilt default padlen.
        let zerosB2 = sos.filter { $0[2] == 0 }.count, zerosA2 = sos.filter { $0[5] == 0 }.count
        padLength = 3 * (2 * sos.count + 1 - min(zerosB2, zerosA2))
        // scipy sosfilt_zi (lfilter_zi per section, scaled by the DC gain of the sections before).
        var states: [[Double]] = []
        var scale = 1.0
        for s in sos {
            let (b0, b1, b2, a1, a2) = (s[0], s[1], s[2], s[4], s[5])
            let bb0 = b1 - a1 * b0, bb1 = b2 - a2 * b0
            let z0 = (bb0 + bb1) / (1 + a1 + a2)
            let z1 = bb1 - a2 * z0
            states.append([scale * z0, scale * z1])
            scale *= (b0 + b1 + b2) / (1 + a1 + a2)
        }
        initialStates = states
        var coefficients: [Double] = [], padded: [Double] = []
        if sos.count <= 5 {
            for s in 0..<5 {
                coefficients += s < sos.count ? [sos[s][0], sos[s][1], sos[s][2], sos[s][4], sos[s][5]] : [1, 0, 0, 0, 0]
                padded += s < sos.count ? states[s] : [0, 0]
            }
        }
        cascadeCoefficients = coefficients
        cascadeStates = padded
    }

    /// Zero-phase filters one series (scipy `sosfiltfilt(sos, x, padtype="odd")`).
    /// - Throws: `SignalCleanError.Code.seriesTooShort` when `x.count ≤ padLength`.
    public func filtfilt(_ x: [Double]) throws -> [Double] {
        guard x.count > padLength else { throw tooShort(x.count) }
        var data = x
        var scratch = [Double](repeating: 0, count: workspaceCount(length: x.count, lanes: 1))
        data.withUnsafeMutableBufferPointer { d in
            scratch.withUnsafeMutableBufferPointer { s in
                filtfiltLanes(d.baseAddress!, length: x.count, lanes: 1, workspace: s.baseAddress!)
            }
        }
        return data
    }

    func tooShort(_ n: Int) -> SignalCleanError {
        SignalCleanError(.seriesTooShort,
                         "the \(kind.rawValue)-pass Butterworth filter needs at least \(minimumLength) volumes (scipy padlen \(padLength) + 1); the series has \(n)")
    }

    /// Doubles of workspace `filtfiltLanes` needs.
    func workspaceCount(length n: Int, lanes: Int) -> Int { (n + 2 * padLength) * lanes + 2 * sections.count * lanes }

    /// Zero-phase filters `lanes` interleaved series in place: `data[t * lanes + j]`, t < `n`.
    /// Requires n > padLength (checked by the caller). `workspace` holds `workspaceCount` doubles.
    func filtfiltLanes(_ data: UnsafeMutablePointer<Double>, length n: Int, lanes: Int, workspace: UnsafeMutablePointer<Double>) {
        let edge = padLength
        let next = n + 2 * edge
        let ext = workspace
        let state = workspace + next * lanes
        // Odd extension.
        for i in 0..<edge {
            let dst = ext + i * lanes, src = data + (edge - i) * lanes
            for j in 0..<lanes { dst[j] = 2 * data[j] - src[j] }
        }
        (ext + edge * lanes).update(from: data, count: n * lanes)
        let last = data + (n - 1) * lanes
        for i in 0..<edge {
            let dst = ext + (edge + n + i) * lanes, src = data + (n - 2 - i) * lanes
            for j in 0..<lanes { dst[j] = 2 * last[j] - src[j] }
        }
        runSections(ext, count: next, lanes: lanes, state: state, forward: true)
        runSections(ext, count: next, lanes: lanes, state: state, forward: false)
        data.update(from: ext + edge * lanes, count: n * lanes)
    }

    /// One pass of the cascade (transposed direct form II) over `count` rows, forward or backward,
    /// starting from `sosfilt_zi` scaled by the first row visited. Up to five sections (order ≤ 10
    /// band-pass) run in the C kernel `pipe_sos_cascade5` (states in registers, AVX2 when the CPU
    /// has it); more sections use the lane loop here with the states in `state`.
    private func runSections(_ x: UnsafeMutablePointer<Double>, count: Int, lanes: Int, state: UnsafeMutablePointer<Double>, forward: Bool) {
        let ns = sections.count
        if ns <= 5 {
            pipe_sos_cascade5(x, count, lanes, cascadeCoefficients, cascadeStates, forward ? 1 : 0)
            return
        }
        let c = sections.flatMap { [$0[0], $0[1], $0[2], $0[4], $0[5]] }
        let first = forward ? x : x + (count - 1) * lanes
        for s in 0..<ns {
            let z0 = state + (2 * s) * lanes, z1 = state + (2 * s + 1) * lanes
            let i0 = initialStates[s][0], i1 = initialStates[s][1]
            for j in 0..<lanes { z0[j] = i0 * first[j]; z1[j] = i1 * first[j] }
        }
        for step in 0..<count {
            let row = x + (forward ? step : count - 1 - step) * lanes
            for s in 0..<ns {
                let b0 = c[5 * s], b1 = c[5 * s + 1], b2 = c[5 * s + 2], a1 = c[5 * s + 3], a2 = c[5 * s + 4]
                let z0 = state + (2 * s) * lanes, z1 = state + (2 * s + 1) * lanes
                for j in 0..<lanes {
                    let xn = row[j]
                    let y = b0 * xn + z0[j]
                    z0[j] = b1 * xn - a1 * y + z1[j]
                    z1[j] = b2 * xn - a2 * y
                    row[j] = y
                }
            }
        }
    }
}
