/// A censoring (scrubbing) mask from framewise displacement and standardised DVARS, as nilearn's
/// `load_confounds(strategy=[..., "scrub"])` (`_load_scrub` + `optimize_scrub`, 0.14.1).
///
/// 1. Outliers: volumes with FD > `fdThreshold` (default 0.5 mm) or std DVARS >
///    `stdDVARSThreshold` (default 1.5), strictly greater; NaN (fMRIPrep's first row) is never an
///    outlier.
/// 2. If there is at least one outlier and `minimumSegmentLength` (nilearn `scrub`, default 5)
///    is > 0, segments of kept volumes shorter than it are removed too, exactly as
///    `optimize_scrub`: a leading segment shorter than `scrub` (first outlier index < scrub), a
///    trailing one (T − (last outlier + 1) < scrub), and any run of kept volumes between two
///    outliers whose index difference is in 2…scrub (i.e. fewer than `scrub` kept volumes).
/// - Returns: `true` = keep (the `sampleMask` of `SignalCleanOptions`).
public enum ScrubbingMask {
    /// - Parameters:
    ///   - framewiseDisplacement: FD per volume (length T), or `nil` to skip the FD rule.
    ///   - stdDVARS: std DVARS per volume (length T), or `nil` to skip the DVARS rule.
    /// - Throws: `SignalCleanError.Code.shapeMismatch` when lengths differ.
    public static func keepMask(framewiseDisplacement: [Double]?, stdDVARS: [Double]?, fdThreshold: Double = 0.5,
                                stdDVARSThreshold: Double = 1.5, minimumSegmentLength scrub: Int = 5) throws -> [Bool] {
        guard let t = framewiseDisplacement?.count ?? stdDVARS?.count else { return [] }
        if let d = stdDVARS, d.count != t {
            throw SignalCleanError(.shapeMismatch, "std DVARS has \(d.count) values but FD has \(t)")
        }
        var outlier = [Bool](repeating: false, count: t)
        for i in 0..<t {
            if let fd = framewiseDisplacement, fd[i] > fdThreshold { outlier[i] = true }
            if let dv = stdDVARS, dv[i] > stdDVARSThreshold { outlier[i] = true }
        }
        var index = (0..<t).filter { outlier[$0] }
        if scrub > 0, !index.isEmpty {
            index = optimizeScrub(index, count: t, scrub: scrub)
        }
        var keep = [Bool](repeating: true, count: t)
        for i in index where i >= 0 && i < t { keep[i] = false }
        return keep
    }

    /// nilearn `optimize_scrub` on sorted outlier indices.
    static func optimizeScrub(_ outliers: [Int], count t: Int, scrub: Int) -> [Int] {
        var idx = outliers
        if idx[0] < scrub { idx = Array(0..<idx[0]) + idx }
        if t - (idx[idx.count - 1] + 1) < scrub { idx += Array(idx[idx.count - 1]..<t) }
        var extra: [Int] = []
        for k in 0..<(idx.count - 1) {
            let d = idx[k + 1] - idx[k]
            if d > 1 && d < scrub + 1 { extra += Array((idx[k] + 1)..<idx[k + 1]) }
        }
        return Array(Set(idx + extra)).sorted()
    }
}
