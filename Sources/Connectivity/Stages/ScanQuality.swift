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
    static func meanStandardizedDVARS(_ x: UnsafeBufferPointer<Float>, timePoints t: Int, skip: [Bool]) -> Double? {
        let v = skip.count
        guard t >= 3, v > 0, let x = x.baseAddress else { return nil }
        // Over raw pointers, so that the per-voxel passes vectorise wherever this is inlined.
        let scratch = UnsafeMutablePointer<Double>.allocate(capacity: 3 * v)
        defer { scratch.deallocate() }
        let mean = scratch, ss = scratch + v, lag = scratch + 2 * v
        mean.initialize(repeating: 0, count: v)
        for r in 0..<t {
            let row = x + r * v
            for c in 0..<v { mean[c] += Double(row[c]) }
        }
        for c in 0..<v { mean[c] /= Double(t) }
        for c in 0..<v {
            let d = Double(x[c]) - mean[c]
            ss[c] = d * d
            lag[c] = 0
        }
        for r in 1..<t {
            let row = x + r * v, previous = row - v
            for c in 0..<v {
                let d = Double(row[c]) - mean[c]
                ss[c] += d * d
                lag[c] += d * (Double(previous[c]) - mean[c])
            }
        }
        // The used voxels' indices, so the sums below need no test per value.
        let kept = UnsafeMutablePointer<Int32>.allocate(capacity: v)
        defer { kept.deallocate() }
        var predicted = 0.0, used = 0
        for c in 0..<v where !skip[c] && ss[c] > 0 {
            kept[used] = Int32(c)
            let sd = (ss[c] / Double(t - 1)).squareRoot()
            let rho = lag[c] / ss[c]
            predicted += sd * (2 * max(0, 1 - rho)).squareRoot()
            used += 1
        }
        guard used > 0, predicted > 0 else { return nil }
        predicted /= Double(used)
        var total = 0.0
        for r in 1..<t {
            let row = x + r * v, previous = row - v
            var s = 0.0
            for j in 0..<used {
                let c = Int(kept[j])
                let d = Double(row[c]) - Double(previous[c])
                s += d * d
            }
            total += (s / Double(used)).squareRoot() / predicted
        }
        return total / Double(t - 1)
    }

    /// The median tSNR from each voxel's mean and variance before cleaning.
    static func medianTSNR(means: [Double], variances: [Double]) -> Double? {
        median(zip(means, variances).compactMap { m, v in v > 0 ? m / v.squareRoot() : nil })
    }
}
