import Foundation

/// Quality values of one run, computed by `clean` where the data already are and cached with
/// the task, so that changing a QC threshold recomputes nothing per scan.
///
/// - Framewise displacement (Power et al. 2012), in mm, over the volumes after the dummy scans:
///   fMRIPrep's `framewise_displacement` column, else computed from the six motion columns
///   (Σ|Δ translation| + 50 mm · Σ|Δ rotation in radians|); the first volume has none. nil
///   without motion information.
/// - Standardised DVARS (Nichols' formula as in Nipype's `compute_dvars`): DVARS_t =
///   √(mean over voxels of (x_t − x_{t−1})²), divided by the mean over voxels of the DVARS each
///   voxel's variance predicts, σ_v·√(2(1 − ρ_v)), with ρ_v its lag-1 autocorrelation. Before
///   cleaning: the mean of fMRIPrep's `std_dvars` column (nil without it); after cleaning: on
///   the cleaned series, with σ_v the sample standard deviation (Nipype uses the IQR-based
///   robust one, which needs a sort per voxel); voxels set to 0 are left out.
/// - tSNR: each in-mask voxel's mean over its standard deviation (ddof 0) before cleaning, over
///   the volumes cleaning works on; the median over voxels with variance.
public struct ScanQuality: Codable, Sendable, Equatable {
    public var meanFD: Double?
    public var medianFD: Double?
    public var maxFD: Double?
    /// Volumes after dummy scans, kept after censoring, and censored.
    public var volumes: Int
    public var keptVolumes: Int
    public var censoredVolumes: Int
    public var censoredFraction: Double
    public var meanStdDVARSBefore: Double?
    public var meanStdDVARSAfter: Double?
    public var medianTSNR: Double?
    public var residualDegreesOfFreedom: Int

    /// The confounds columns a run's motion is measured from: those ``framewiseDisplacement(_:)``
    /// and the scrubbing sample mask (`CleanKind.sampleMask`) read.
    static let motionColumns: Set<String> = ["framewise_displacement", "std_dvars", "trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"]

    /// Framewise displacement per volume (the first is nil) from a confounds table.
    static func framewiseDisplacement(_ table: ConfoundsTable?) -> [Double?]? {
        guard let table else { return nil }
        if let fd = table.columns["framewise_displacement"] {
            return fd.enumerated().map { $0.offset == 0 || !$0.element.isFinite ? nil : $0.element }
        }
        let translations = ["trans_x", "trans_y", "trans_z"].compactMap { table.columns[$0] }
        let rotations = ["rot_x", "rot_y", "rot_z"].compactMap { table.columns[$0] }
        guard translations.count == 3, rotations.count == 3 else { return nil }
        return (0..<table.rowCount).map { t in
            guard t > 0 else { return nil }
            var d = 0.0
            for c in translations { d += abs(c[t] - c[t - 1]) }
            for c in rotations { d += 50 * abs(c[t] - c[t - 1]) }
            return d.isFinite ? d : nil
        }
    }

    /// The mean of a run's framewise displacement (``framewiseDisplacement``'s values), nil when it
    /// has none: what `clean` records, and what the spec check foresees `qc`'s max_mean_fd with.
    static func meanFD(_ displacement: [Double?]?) -> Double? {
        guard let values = displacement?.compactMap({ $0 }), !values.isEmpty else { return nil }
        return values.reduce(0, +) / Double(values.count)
    }

    /// The fraction of a run's `volumes` (dummy scans dropped) that scrubbing censors.
    static func censoredFraction(_ sampleMask: [Bool]?, volumes: Int) -> Double {
        Double(sampleMask.map { m in m.filter { !$0 }.count } ?? 0) / Double(max(1, volumes))
    }

    /// The median of finite values (nil when none).
    static func median(_ values: [Double]) -> Double? {
        let v = values.filter(\.isFinite).sorted()
        guard !v.isEmpty else { return nil }
        return v.count % 2 == 1 ? v[v.count / 2] : (v[v.count / 2 - 1] + v[v.count / 2]) / 2
    }

    /// Standardised DVARS of a T x V series (row-major), averaged over time; nil for fewer than
    /// three volumes or no voxel with variance.
    ///
    /// One pass over the series, in blocks of columns whose sums stay in cache: per voxel, the
    /// sums of y, y² and y_r·y_{r−1} with y = x − x₀ (shifted by the voxel's first value, so that
    /// the variance loses nothing to cancellation whatever the series' mean); per volume r ≥ 1,
    /// the sum of (x_r − x_{r−1})² over the voxels not skipped. A voxel without variance adds 0
    /// to that sum, so the voxels used need not be known before the pass.
    static func meanStandardizedDVARS(_ x: UnsafeBufferPointer<Float>, timePoints t: Int, skip: [Bool]) -> Double? {
        let v = skip.count
        guard t >= 3, v > 0, let x = x.baseAddress else { return nil }
        // Over raw pointers, so that the per-voxel loops vectorise wherever this is inlined.
        let scratch = UnsafeMutablePointer<Double>.allocate(capacity: 4 * v + t)
        defer { scratch.deallocate() }
        let sy = scratch, syy = scratch + v, lagged = scratch + 2 * v, weight = scratch + 3 * v, squares = scratch + 4 * v
        for c in 0..<v { weight[c] = skip[c] ? 0 : 1 }
        sy.initialize(repeating: 0, count: 3 * v)
        squares.initialize(repeating: 0, count: t)
        let block = 1024
        for start in stride(from: 0, to: v, by: block) {
            let end = min(v, start + block)
            for r in 1..<t {
                let row = x + r * v, previous = row - v
                for c in start..<end {
                    let first = Double(x[c])
                    let y = Double(row[c]) - first, p = Double(previous[c]) - first
                    sy[c] += y
                    syy[c] += y * y
                    lagged[c] += y * p
                }
                // Four partial sums, so the additions do not wait on each other.
                var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
                var c = start
                while c + 4 <= end {
                    let d0 = (Double(row[c]) - Double(previous[c])) * weight[c]
                    let d1 = (Double(row[c + 1]) - Double(previous[c + 1])) * weight[c + 1]
                    let d2 = (Double(row[c + 2]) - Double(previous[c + 2])) * weight[c + 2]
                    let d3 = (Double(row[c + 3]) - Double(previous[c + 3])) * weight[c + 3]
                    s0 += d0 * d0; s1 += d1 * d1; s2 += d2 * d2; s3 += d3 * d3
                    c += 4
                }
                while c < end {
                    let d = (Double(row[c]) - Double(previous[c])) * weight[c]
                    s0 += d * d
                    c += 1
                }
                squares[r] += (s0 + s1) + (s2 + s3)
            }
        }
        var predicted = 0.0, used = 0
        let n = Double(t)
        for c in 0..<v where !skip[c] {
            let mean = sy[c] / n
            let ss = syy[c] - sy[c] * mean
            guard ss > 0 else { continue }
            // Σ_{r≥1} (y_r − m)(y_{r−1} − m), from the sums: y₀ = 0, so Σ_{r≥1} y_r = Σy and
            // Σ_{r≤t−2} y_r = Σy − y_{t−1}.
            let last = Double(x[(t - 1) * v + c]) - Double(x[c])
            let lag = lagged[c] - mean * (2 * sy[c] - last) + (n - 1) * mean * mean
            let sd = (ss / (n - 1)).squareRoot()
            predicted += sd * (2 * max(0, 1 - lag / ss)).squareRoot()
            used += 1
        }
        guard used > 0, predicted > 0 else { return nil }
        predicted /= Double(used)
        var total = 0.0
        for r in 1..<t { total += (squares[r] / Double(used)).squareRoot() / predicted }
        return total / Double(t - 1)
    }

    /// The median tSNR from each voxel's mean and variance before cleaning.
    static func medianTSNR(means: [Double], variances: [Double]) -> Double? {
        median(zip(means, variances).compactMap { m, v in v > 0 ? m / v.squareRoot() : nil })
    }
}
