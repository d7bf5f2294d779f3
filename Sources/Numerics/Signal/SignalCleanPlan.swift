import CKernels
import Foundation

/// Everything `SignalClean` precomputes once per (options, T, confounds): which rows to load, the
/// censoring spline, the ramp, the filter, the censoring after filtering, and the orthonormal
/// confound basis Qᵀ. Applying it to a block of features allocates nothing.
struct SignalCleanPlan: Sendable {
    let inputRows: Int
    /// Original row index of each working row.
    let workRows: [Int]
    let spline: CensoredVolumeSpline?
    /// Normalised linear ramp over the working rows (nil: no detrend).
    let ramp: [Double]?
    let detrend: Bool
    let butterworth: ButterworthFilter?
    let ideal: IdealBandPassFilter?
    /// Working rows kept after filtering (nil: all).
    let censorRows: [Int]?
    let outputRows: Int
    /// Qᵀ, `rank` x `outputRows`, row-major.
    private(set) var qTransposed: [Double] = []
    private(set) var rank: Int = 0
    /// Confound columns dropped before the regression as degenerate (see
    /// ``SignalCleanPlan/degenerateTolerance``): (column, why), in column order.
    private(set) var droppedConfounds: [(column: Int, reason: String)] = []
    /// Q, `outputRows` x `rank`, row-major.
    private(set) var qRowMajor: [Double] = []
    let standardize: SignalCleanOptions.Standardization?
    let ensureFinite: Bool
    let minimumRetainedVariance: Double?

    var workingRows: Int { workRows.count }

    init(options: SignalCleanOptions, timePoints t: Int, confounds: Matrix?) throws {
        guard t >= 1 else { throw SignalCleanError(.shapeMismatch, "signals have no time points") }
        if let c = confounds, c.rows != t {
            throw SignalCleanError(.shapeMismatch, "confounds have \(c.rows) rows but the signals have \(t) time points")
        }
        inputRows = t
        detrend = options.detrend
        standardize = options.standardize
        ensureFinite = options.ensureFinite
        minimumRetainedVariance = options.minimumRetainedVariance
        let filterKind = try Self.filterKind(options)
        let tr = options.repetitionTime ?? 1
        // Cosine drift terms (full length, before censoring), appended to the confounds.
        var confounds = confounds
        if filterKind == .cosine, let hp = options.highPass {
            confounds = SignalCleanPlan.appendingCosineDrift(to: confounds, timePoints: t, repetitionTime: tr, highPass: hp)
        }
        let censoring = try Self.censoring(options, timePoints: t, filterKind: filterKind, repetitionTime: tr)
        workRows = censoring.rows
        spline = censoring.spline
        censorRows = censoring.censor
        let tw = workRows.count
        (butterworth, ideal) = try Self.filters(options, filterKind: filterKind, workingRows: tw, repetitionTime: tr)
        outputRows = censorRows?.count ?? tw
        ramp = options.detrend && tw > 1 ? Self.normalisedRamp(tw) : nil
        if let c = confounds, c.columns > 0 { setConfoundBasis(c, standardizeConfounds: options.standardizeConfounds) }
    }

    /// The temporal filter to apply: Butterworth or ideal with neither cut-off is none, as in
    /// nilearn; the cosine filter needs a high-pass cut-off, and any filter a repetition time.
    private static func filterKind(_ options: SignalCleanOptions) throws -> SignalCleanOptions.TemporalFilter? {
        var filterKind = options.filter
        if options.lowPass == nil && options.highPass == nil && filterKind != .cosine { filterKind = nil }
        if filterKind == .cosine && options.highPass == nil {
            throw SignalCleanError(.invalidParameter, "the cosine filter needs a high-pass cut-off (high_pass)")
        }
        if filterKind != nil {
            guard let tr = options.repetitionTime, tr > 0, tr.isFinite else {
                throw SignalCleanError(.invalidParameter, "a positive repetition time (t_r) is required for filtering")
            }
        }
        return filterKind
    }

    /// The rows to load, the spline that fills censored volumes before filtering, and the working
    /// rows kept after it (nil: all). Without a filter (or with the cosine one), censored volumes
    /// are simply dropped.
    private static func censoring(_ options: SignalCleanOptions, timePoints t: Int, filterKind: SignalCleanOptions.TemporalFilter?,
                                  repetitionTime tr: Double) throws -> (rows: [Int], spline: CensoredVolumeSpline?, censor: [Int]?) {
        guard let mask = options.sampleMask else { return (Array(0..<t), nil, nil) }
        guard mask.count == t else {
            throw SignalCleanError(.shapeMismatch, "sample mask has \(mask.count) entries but the signals have \(t) time points")
        }
        let kept = mask.indices.filter { mask[$0] }
        guard let first = kept.first, let last = kept.last else {
            throw SignalCleanError(.allVolumesRemoved, "the sample mask removes all \(t) volumes")
        }
        if kept.count == t { return (Array(0..<t), nil, nil) }
        if filterKind == nil || filterKind == .cosine { return (kept, nil, nil) }
        var rows: [Int]
        var targets: [(row: Int, time: Double)] = []
        switch options.censoringInterpolation {
        case .spline:
            rows = Array(first...last)
            for r in first...last where !mask[r] { targets.append((r - first, tr * Double(r))) }
        case .nilearn0141Compatible:
            // nilearn 0.14.1 replaces rows ~i = T−1−i for each kept index i.
            let replaced = Set(kept.map { t - 1 - $0 }).filter { !mask[$0] }
            rows = (0..<t).filter { !(replaced.contains($0) && ($0 < first || $0 > last)) }
            for (w, r) in rows.enumerated() where replaced.contains(r) { targets.append((w, tr * Double(r))) }
        }
        var spline: CensoredVolumeSpline? = nil
        if !targets.isEmpty {
            guard kept.count >= 2 else {
                throw SignalCleanError(.invalidParameter, "interpolating censored volumes needs at least 2 kept volumes")
            }
            let position = Dictionary(uniqueKeysWithValues: rows.enumerated().map { ($1, $0) })
            spline = CensoredVolumeSpline(knotRows: kept.map { position[$0]! }, knotTimes: kept.map { tr * Double($0) }, targets: targets)
        }
        return (rows, spline, kept.map { $0 - first })
    }

    /// The designed filter for `tw` working rows (nil for none or the cosine one, which is a
    /// confound set instead).
    private static func filters(_ options: SignalCleanOptions, filterKind: SignalCleanOptions.TemporalFilter?, workingRows tw: Int,
                                repetitionTime tr: Double) throws -> (ButterworthFilter?, IdealBandPassFilter?) {
        switch filterKind {
        case .butterworth?:
            let bw = try ButterworthFilter.design(order: options.butterworthOrder, lowPass: options.lowPass, highPass: options.highPass,
                                                  samplingRate: 1 / tr)
            if let f = bw, tw <= f.padLength { throw f.tooShort(tw) }
            return (bw, nil)
        case .idealFFT?:
            return (nil, try IdealBandPassFilter(length: tw, repetitionTime: tr, lowPass: options.lowPass, highPass: options.highPass))
        case .cosine?, nil:
            return (nil, nil)
        }
    }

    /// A linear ramp over `n` rows, centred and scaled to unit norm.
    private static func normalisedRamp(_ n: Int) -> [Double] {
        var r = (0..<n).map { Double($0) }
        let m = r.reduce(0, +) / Double(n)
        for i in r.indices { r[i] -= m }
        let norm = r.reduce(0) { $0 + $1 * $1 }.squareRoot()
        if !(norm < Double.ulpOfOne) { for i in r.indices { r[i] /= norm } }
        return r
    }

    /// The confounds through the same censoring, detrending and filtering as the signals, with
    /// degenerate columns dropped, scaled, and reduced to an orthonormal basis by pivoted QR: sets
    /// `droppedConfounds`, `rank`, `qTransposed` and `qRowMajor`.
    private mutating func setConfoundBasis(_ c: Matrix, standardizeConfounds: Bool) {
        let k = c.columns, tw = workingRows, to = outputRows
        var block = [Double](repeating: 0, count: tw * k)
        var ws = [Double](repeating: 0, count: SignalCleanPlan.workspaceCount(tw: tw, lanes: k, butterworth: butterworth, ideal: ideal,
                                                                               spline: spline, rank: 0))
        let partial = self
        c.data.withUnsafeBufferPointer { src in
            block.withUnsafeMutableBufferPointer { b in
                ws.withUnsafeMutableBufferPointer { w in
                    partial.prepare(source: src.baseAddress!, columns: k, firstColumn: 0, lanes: k, block: b.baseAddress!,
                                    workspace: w.baseAddress!, sanitize: false, originalMeans: nil)
                }
            }
        }
        // Degenerate columns: nothing left after detrending and filtering (a constant, a linear
        // trend), or a repeat of earlier columns. Kept, z-scoring would blow their rounding noise
        // up to unit variance and regress it out of every voxel.
        let dropped = SignalCleanPlan.degenerateColumns(raw: c, processed: block, rows: to, columns: k)
        droppedConfounds = dropped
        var cm = Matrix(rows: to, columns: k, data: Array(block[0..<(to * k)]))
        if !dropped.isEmpty {
            let keptColumns = (0..<k).filter { j in !dropped.contains { $0.column == j } }
            var reduced = Matrix(rows: to, columns: keptColumns.count)
            for (n, j) in keptColumns.enumerated() { for r in 0..<to { reduced[r, n] = cm[r, j] } }
            cm = reduced
        }
        Self.scaleColumns(&cm, standardize: standardizeConfounds)
        let kept = cm.columns
        let qr = kept > 0 ? QRDecomposition(cm) : nil
        let tol = 100 * Double.ulpOfOne
        let keep = qr.map { qr in (0..<min(qr.r.rows, qr.r.columns)).filter { abs(qr.r[$0, $0]) > tol } } ?? []
        rank = keep.count
        var qt = [Double](repeating: 0, count: rank * to)
        for (i, col) in keep.enumerated() { for r in 0..<to { qt[i * to + r] = qr!.q[r, col] } }
        qTransposed = qt
        var rowMajor = [Double](repeating: 0, count: qt.count)
        for i in 0..<rank { for r in 0..<to { rowMajor[r * rank + i] = qt[i * to + r] } }
        qRowMajor = rowMajor
    }

    /// Confound columns z-scored (sample sd; a constant column is only centred), as nilearn's
    /// `standardize_confounds`, or else scaled by their maximum absolute value.
    private static func scaleColumns(_ cm: inout Matrix, standardize: Bool) {
        let to = cm.rows
        if standardize {
            guard to > 1 else { return }
            for j in 0..<cm.columns {
                var mean = 0.0
                for r in 0..<to { mean += cm[r, j] }
                mean /= Double(to)
                var ss = 0.0
                for r in 0..<to { cm[r, j] -= mean; ss += cm[r, j] * cm[r, j] }
                var sd = (ss / Double(to - 1)).squareRoot()
                if sd < Double.ulpOfOne { sd = 1 }
                for r in 0..<to { cm[r, j] /= sd }
            }
        } else {
            for j in 0..<cm.columns {
                var mx = 0.0
                for r in 0..<to { mx = max(mx, abs(cm[r, j])) }
                if mx == 0 { mx = 1 }
                for r in 0..<to { cm[r, j] /= mx }
            }
        }
    }

    /// nilearn `_create_cosine_drift_terms`: DCT-II drifts
    /// √(2/T)·cos(π/T·(t + ½)·k), k = 1…min(T − 1, ⌊2·T·hp·TR⌋) (the constant is not added), appended
    /// to the confounds unless a confound already correlates > 0.9 with one of them
    /// (`_check_cosine_by_user`); no terms when the order is 0 (nilearn warns).
    static func appendingCosineDrift(to confounds: Matrix?, timePoints n: Int, repetitionTime tr: Double, highPass hp: Double) -> Matrix? {
        let order = n > 1 ? min(n - 1, Int((2 * Double(n) * hp * tr).rounded(.down))) : 0
        guard order > 0 else { return confounds }
        var cosines = Matrix(rows: n, columns: order)
        let normalizer = (2.0 / Double(n)).squareRoot()
        for k in 1...order {
            for t in 0..<n { cosines[t, k - 1] = normalizer * cos(Double.pi / Double(n) * (Double(t) + 0.5) * Double(k)) }
        }
        guard let c = confounds else { return cosines }
        let all = SeedCorrelation.correlationMatrix(cosines.appendingColumns(c))
        for i in 0..<order {
            for j in 0..<all.columns where j != i && all[i, j] > 0.9 { return c }
        }
        return c.appendingColumns(cosines)
    }

    /// A confound column is degenerate when, after detrending and filtering, its root mean square
    /// is below this fraction of its root mean square before (a constant or a linear trend under
    /// `detrend`, a column the band-pass removes), or when, after that, its residual on the
    /// columns before it is below this fraction of its own size (a repeated or scaled column).
    /// nilearn keeps such columns; see docs/nilearn-equivalence.md.
    static let degenerateTolerance = 1e-7

    /// The degenerate columns of a confound matrix (`raw`: as given; `processed`: the same
    /// columns after detrending and filtering, `rows` x `columns` row-major).
    static func degenerateColumns(raw: Matrix, processed: [Double], rows: Int, columns k: Int) -> [(column: Int, reason: String)] {
        var out: [(column: Int, reason: String)] = []
        var basis: [[Double]] = []   // orthonormal, over the kept columns so far
        for j in 0..<k {
            var before = 0.0
            for r in 0..<raw.rows { before += raw[r, j] * raw[r, j] }
            before = (before / Double(max(1, raw.rows))).squareRoot()
            var x = (0..<rows).map { processed[$0 * k + j] }
            let after = (x.reduce(0) { $0 + $1 * $1 } / Double(max(1, rows))).squareRoot()
            if before == 0 || after <= degenerateTolerance * before {
                out.append((j, before == 0 ? "all zero" : "nothing left after detrending and filtering"))
                continue
            }
            for q in basis {
                var dot = 0.0
                for r in 0..<rows { dot += q[r] * x[r] }
                for r in 0..<rows { x[r] -= dot * q[r] }
            }
            let residual = (x.reduce(0) { $0 + $1 * $1 } / Double(max(1, rows))).squareRoot()
            if residual <= degenerateTolerance * after {
                out.append((j, "a combination of the columns before it"))
                continue
            }
            let norm = (x.reduce(0) { $0 + $1 * $1 }).squareRoot()
            basis.append(x.map { $0 / norm })
        }
        return out
    }

    static func workspaceCount(tw: Int, lanes: Int, butterworth: ButterworthFilter?, ideal: IdealBandPassFilter?, spline: CensoredVolumeSpline?, rank: Int) -> Int {
        let f = max(butterworth?.workspaceCount(length: tw, lanes: lanes) ?? 0, ideal?.workspaceCount ?? 0)
        return max(f, spline?.workspaceCount(lanes: lanes) ?? 0, rank * max(lanes, 8)) + 2 * lanes + 4
    }

    /// Per-task scratch: the block (working rows x lanes), the step workspace, and the lanes'
    /// variances before cleaning (with `minimumRetainedVariance`).
    func makeWorkspace(lanes: Int) -> [Double] {
        [Double](repeating: 0, count: workingRows * lanes + stepWorkspaceCount(lanes: lanes) + lanes)
    }

    func stepWorkspaceCount(lanes: Int) -> Int {
        SignalCleanPlan.workspaceCount(tw: workingRows, lanes: lanes, butterworth: butterworth, ideal: ideal, spline: spline, rank: rank)
    }

    /// Steps 1–5 (load, sanitise, interpolate, detrend, filter, censor) for `lanes` columns into
    /// `block` (working rows x lanes; the first `outputRows` rows hold the result).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    func prepare<S: BinaryFloatingPoint>(source: UnsafePointer<S>, columns v: Int, firstColumn c0: Int, lanes: Int,
                                          block: UnsafeMutablePointer<Double>, workspace: UnsafeMutablePointer<Double>,
                                          sanitize: Bool, originalMeans: UnsafeMutablePointer<Double>?,
                                          originalVariances: UnsafeMutablePointer<Double>? = nil) {
        let tw = workingRows
        for (w, r) in workRows.enumerated() {
            let s = source + r * v + c0, b = block + w * lanes
            for j in 0..<lanes { b[j] = Double(s[j]) }
            if sanitize && ensureFinite {
                for j in 0..<lanes where !b[j].isFinite { b[j] = 0 }
            }
        }
        spline?.apply(block, lanes: lanes, workspace: workspace)
        // Each lane's sum over the working rows, once, for the original means, the variances'
        // mean and the detrend's constant term (each divides it as it always has).
        let sum = workspace
        if originalMeans != nil || originalVariances != nil || ramp != nil {
            for j in 0..<lanes { sum[j] = 0 }
            for w in 0..<tw { let b = block + w * lanes; for j in 0..<lanes { sum[j] += b[j] } }
        }
        if let om = originalMeans {
            for j in 0..<lanes { om[j] = sum[j] / Double(tw) }
        }
        if let ov = originalVariances {
            // Two passes (mean, then squares about it): exact for a large mean.
            let mean = workspace + lanes
            for j in 0..<lanes { mean[j] = sum[j] / Double(tw); ov[j] = 0 }
            for w in 0..<tw { let b = block + w * lanes; for j in 0..<lanes { let d = b[j] - mean[j]; ov[j] += d * d } }
            for j in 0..<lanes { ov[j] /= Double(tw) }
        }
        if let ramp {
            let acc = sum
            let inv = 1 / Double(tw)
            for j in 0..<lanes { acc[j] *= inv }
            for w in 0..<tw { let b = block + w * lanes; for j in 0..<lanes { b[j] -= acc[j] } }
            for j in 0..<lanes { acc[j] = 0 }
            for w in 0..<tw { let b = block + w * lanes, rw = ramp[w]; for j in 0..<lanes { acc[j] += rw * b[j] } }
            for w in 0..<tw { let b = block + w * lanes, rw = ramp[w]; for j in 0..<lanes { b[j] -= acc[j] * rw } }
        }
        if let butterworth { butterworth.filtfiltLanes(block, length: tw, lanes: lanes, workspace: workspace) }
        if let ideal { ideal.applyLanes(block, lanes: lanes, workspace: workspace) }
        if let censorRows {
            for (o, w) in censorRows.enumerated() where o != w {
                (block + o * lanes).update(from: block + w * lanes, count: lanes)
            }
        }
    }

    /// All steps for one block of columns; writes `outputRows` rows to `destination`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    func processBlock<S: BinaryFloatingPoint>(source: UnsafeMutablePointer<S>, destination: UnsafeMutablePointer<S>, columns v: Int,
                                               firstColumn c0: Int, lanes: Int, workspace: inout [Double],
                                               cleanedMeans: UnsafeMutablePointer<Double>?, originalMeans: UnsafeMutablePointer<Double>?,
                                               zeroed: UnsafeMutablePointer<Bool>? = nil, variancesOut: UnsafeMutablePointer<Double>? = nil) {
        let to = outputRows, tw = workingRows
        workspace.withUnsafeMutableBufferPointer { wsp in
            let block = wsp.baseAddress!, ws = block + tw * lanes
            let wantVariances = (minimumRetainedVariance != nil && zeroed != nil) || variancesOut != nil
            let variances = wantVariances ? ws + stepWorkspaceCount(lanes: lanes) : nil
            prepare(source: UnsafePointer(source), columns: v, firstColumn: c0, lanes: lanes, block: block, workspace: ws,
                    sanitize: true, originalMeans: originalMeans, originalVariances: variances)
            if let variancesOut, let variances { variancesOut.update(from: variances, count: lanes) }
            // Regression: y −= Q (Qᵀ y).
            if rank > 0 { regress(block, lanes: lanes, coefficients: ws) }
            // Rounding noise only: 0 (see `SignalCleanOptions.minimumRetainedVariance`).
            if let tolerance = minimumRetainedVariance, let before = variances, let zeroed {
                let mean = ws, after = ws + lanes
                for j in 0..<lanes { mean[j] = 0; after[j] = 0 }
                for r in 0..<to { let b = block + r * lanes; for j in 0..<lanes { mean[j] += b[j] } }
                for j in 0..<lanes { mean[j] /= Double(to) }
                for r in 0..<to { let b = block + r * lanes; for j in 0..<lanes { let d = b[j] - mean[j]; after[j] += d * d } }
                for j in 0..<lanes where after[j] / Double(to) <= tolerance * before[j] && before[j] > 0 {
                    zeroed[j] = true
                    for r in 0..<to { block[r * lanes + j] = 0 }
                }
            }
            // Standardise.
            let mean = ws, acc = ws + lanes
            switch standardize {
            case (.zscoreSample?) where to > 1, (.zscore?) where to > 1:
                let ddof = standardize == .zscoreSample ? 1.0 : 0.0
                for j in 0..<lanes { mean[j] = 0; acc[j] = 0 }
                for r in 0..<to { let b = block + r * lanes; for j in 0..<lanes { mean[j] += b[j] } }
                for j in 0..<lanes { mean[j] /= Double(to) }
                for r in 0..<to { let b = block + r * lanes; for j in 0..<lanes { b[j] -= mean[j]; acc[j] += b[j] * b[j] } }
                for j in 0..<lanes {
                    var sd = (acc[j] / (Double(to) - ddof)).squareRoot()
                    if sd < Double.ulpOfOne { sd = 1 }
                    acc[j] = 1 / sd
                }
                for r in 0..<to { let b = block + r * lanes; for j in 0..<lanes { b[j] *= acc[j] } }
            case .psc?:
                if let cm = cleanedMeans {
                    for j in 0..<lanes { cm[j] = 0 }
                    for r in 0..<to { let b = block + r * lanes; for j in 0..<lanes { cm[j] += b[j] } }
                    for j in 0..<lanes { cm[j] /= Double(to) }
                }
            default:
                break
            }
            for r in 0..<to {
                let d = destination + r * v + c0, b = block + r * lanes
                for j in 0..<lanes { d[j] = S(b[j]) }
            }
        }
    }

    /// y −= Q (Qᵀ y) for `lanes` interleaved series of `outputRows` rows, in the C kernel
    /// `pipe_regress` (Qᵀy accumulated in registers, then each row corrected; AVX2 when the CPU has
    /// it). `coefficients` holds `rank * 8` doubles.
    func regress(_ block: UnsafeMutablePointer<Double>, lanes: Int, coefficients: UnsafeMutablePointer<Double>) {
        qTransposed.withUnsafeBufferPointer { qt in
            qRowMajor.withUnsafeBufferPointer { q in
                pipe_regress(block, outputRows, lanes, Int32(rank), qt.baseAddress!, q.baseAddress!, coefficients)
            }
        }
    }

    /// nilearn's psc step over all columns (needs every column's means first).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    func percentSignalChange<S: BinaryFloatingPoint>(_ data: UnsafeMutablePointer<S>, columns v: Int, cleanedMeans: [Double], originalMeans: [Double]) {
        let to = outputRows
        if to == 1 { return }  // nilearn: "Standardization of 3D signal ... Skipping."
        let cleanedScale = cleanedMeans.reduce(0) { $0 + abs($1) } / Double(v)
        let originalScale = originalMeans.reduce(0) { $0 + abs($1) } / Double(v)
        let addBack = cleanedScale / originalScale < 0.1
        var shift = [Double](repeating: 0, count: v), scale = [Double](repeating: 0, count: v)
        for c in 0..<v {
            let add = addBack ? originalMeans[c] : 0
            let m = cleanedMeans[c] + add
            if abs(m) < Double.ulpOfOne { shift[c] = .nan; scale[c] = 0 } else { shift[c] = add - m; scale[c] = 100 / abs(m) }
        }
        for r in 0..<to {
            let row = data + r * v
            for c in 0..<v {
                row[c] = scale[c] == 0 ? 0 : S((Double(row[c]) + shift[c]) * scale[c])
            }
        }
    }
}
