/// DPABI's ideal FFT band-pass (`y_IdealFilter`): demean, zero-pad to the next power of two, zero
/// the stop-band bins, inverse FFT, crop, add the mean back.
///
/// With N = 2^⌈log₂ T⌉ and bin k at frequency k / (N·TR), the kept bins are
/// k ∈ [⌈hp·N·TR⌉, ⌊lp·N·TR⌋] and their mirrors N − k (DPABI's 1-based
/// `ceil(hp·N·TR + 1)` … `fix(lp·N·TR + 1)`). A low-pass cut-off ≥ Nyquist or `nil` keeps up to
/// the Nyquist bin N/2; a high-pass cut-off ≥ Nyquist keeps nothing; `nil` high-pass keeps from
/// bin 1. Bin 0 (the mean of the demeaned, padded series) is always zero.
///
/// Two real series are filtered with one complex FFT (x + iy): the mask is real and symmetric,
/// so the real and imaginary parts of the result are the two filtered series exactly.
/// Complexity: O(N log N) per pair of series.
public struct IdealBandPassFilter: Sendable {
    /// Series length T.
    public let length: Int
    /// Padded FFT length N.
    public let paddedLength: Int
    /// Kept bins (1 = pass), length N.
    public let mask: [Double]
    /// Add the per-series mean back after filtering (DPABI does).
    public let restoresMean: Bool
    private let fft: RadixTwoFFT

    /// - Parameters:
    ///   - length: T (≥ 1).
    ///   - repetitionTime: TR in seconds (> 0).
    ///   - lowPass: low-pass cut-off in Hz (`nil`: none).
    ///   - highPass: high-pass cut-off in Hz (`nil`: none).
    ///   - restoresMean: add the mean back (DPABI: yes).
    public init(length: Int, repetitionTime: Double, lowPass: Double?, highPass: Double?, restoresMean: Bool = true) throws {
        guard length >= 1 else { throw SignalCleanError(.seriesTooShort, "the ideal filter needs at least 1 volume") }
        guard repetitionTime > 0, repetitionTime.isFinite else {
            throw SignalCleanError(.invalidParameter, "repetition time must be positive, got \(repetitionTime)")
        }
        if let lp = lowPass, let hp = highPass, hp >= lp {
            throw SignalCleanError(.invalidParameter, "high-pass cut-off (\(hp) Hz) is greater than or equal to the low-pass cut-off (\(lp) Hz)")
        }
        let n = RadixTwoFFT.nextPowerOfTwo(length)
        let nyquist = 0.5 / repetitionTime
        let nt = Double(n) * repetitionTime
        var kLow = 1
        if let hp = highPass {
            kLow = hp >= nyquist ? n / 2 + 1 : max(1, Int((hp * nt).rounded(.up)))
        }
        var kHigh = n / 2
        if let lp = lowPass, lp < nyquist, lp > 0 { kHigh = min(n / 2, Int((lp * nt).rounded(.towardZero))) }
        var m = [Double](repeating: 0, count: n)
        if kLow <= kHigh {
            for k in kLow...kHigh {
                m[k] = 1
                m[(n - k) % n] = 1
            }
        }
        m[0] = 0
        self.length = length
        paddedLength = n
        mask = m
        self.restoresMean = restoresMean
        fft = RadixTwoFFT(count: n)
    }

    /// Filters one series.
    public func apply(_ x: [Double]) -> [Double] {
        precondition(x.count == length)
        var d = x
        var w = [Double](repeating: 0, count: workspaceCount)
        d.withUnsafeMutableBufferPointer { p in
            w.withUnsafeMutableBufferPointer { q in applyLanes(p.baseAddress!, lanes: 1, workspace: q.baseAddress!) }
        }
        return d
    }

    /// Doubles of workspace `applyLanes` needs.
    var workspaceCount: Int { 2 * paddedLength }

    /// Filters `lanes` interleaved series in place (`data[t * lanes + j]`).
    func applyLanes(_ data: UnsafeMutablePointer<Double>, lanes: Int, workspace: UnsafeMutablePointer<Double>) {
        let n = paddedLength, t = length
        let re = workspace, im = workspace + n
        var j = 0
        while j < lanes {
            let pair = j + 1 < lanes
            var meanA = 0.0, meanB = 0.0
            for r in 0..<t { meanA += data[r * lanes + j]; if pair { meanB += data[r * lanes + j + 1] } }
            meanA /= Double(t); meanB /= Double(t)
            for r in 0..<t {
                re[r] = data[r * lanes + j] - meanA
                im[r] = pair ? data[r * lanes + j + 1] - meanB : 0
            }
            for r in t..<n { re[r] = 0; im[r] = 0 }
            fft.forward(re: re, im: im)
            mask.withUnsafeBufferPointer { mk in
                for k in 0..<n { re[k] *= mk[k]; im[k] *= mk[k] }
            }
            fft.inverse(re: re, im: im)
            let addA = restoresMean ? meanA : 0, addB = restoresMean ? meanB : 0
            for r in 0..<t {
                data[r * lanes + j] = re[r] + addA
                if pair { data[r * lanes + j + 1] = im[r] + addB }
            }
            j += 2
        }
    }
}
