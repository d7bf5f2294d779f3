import Foundation

/// `nilearn.signal.clean` (0.14.1) on a T x V matrix: rows are time points (volumes), columns are
/// features (voxels), as nilearn's "samples x features".
///
/// Order of operations (identical to nilearn):
/// 1. `ensureFinite`: NaN/±Inf in the signals → 0.
/// 2. Sample mask (censoring):
///    - with a filter: censored volumes between the first and last kept ones are replaced by a
///      not-a-knot cubic spline through the kept volumes (`CensoredVolumeSpline`), censored volumes
///      outside that range are dropped; signals and confounds alike;
///    - without a filter, or with the cosine filter (whose DCT drift terms, built on all T volumes,
///      were appended to the confounds first): the censored volumes are removed now.
/// 3. Detrend signals and confounds: subtract the mean, then the projection on the normalised ramp
///    r = (t − mean t)/‖t − mean t‖ (skipped for a single volume).
/// 4. Filter signals and confounds alike (Butterworth `sosfiltfilt`, or DPABI's ideal filter).
/// 5. With a filter and a sample mask: remove the censored volumes now.
/// 6. Confounds: drop degenerate columns (`SignalCleanPlan.degenerateTolerance`: nothing left after
///    steps 3–4, or a combination of earlier columns); z-score (ddof 1, std < ε → 1) if
///    `standardizeConfounds`, else divide each column by its max |value| (0 → 1); pivoted QR
///    C P = Q R; keep the columns of Q with |R_ii| > 100 ε; signals −= Q (Qᵀ signals).
/// 7. Standardise (`SignalCleanOptions.Standardization`).
///
/// Where pipe differs from nilearn 0.14.1 (documented choices):
/// - degenerate confound columns are dropped before z-scoring (nilearn z-scores their rounding
///   noise to unit variance and regresses it out);
/// - censoring with a filter uses the interpolation nilearn intends; nilearn 0.14.1's bitwise-not
///   indexing bug is reproduced only with `CensoringInterpolation.nilearn0141Compatible`;
/// - the computation is in Double whatever the input type (nilearn computes float32 input in float32);
///   on the float32 in-place path, `psc` is applied to the float32-rounded cleaned values (a second
///   pass is needed because nilearn's psc rule looks at all features' means together);
/// - `zscore` (ddof 0) and the ideal FFT filter are extra options;
/// - runs and `extrapolate=True` are not implemented (nilearn defaults: no runs, extrapolate off);
/// - nilearn's warnings are not emitted; clamped cut-offs are listed in `ButterworthFilter.notes`
///   (`ButterworthFilter.design(...)` with the same options).
///
/// Performance: columns are processed in blocks of `blockWidth` (64) features, time-major inside
/// the block so every step vectorises across features; blocks run in parallel with
/// `DispatchQueue.concurrentPerform`; scratch memory is per task, never per voxel.
public struct SignalClean: Sendable {
    public let options: SignalCleanOptions
    /// Features per block.
    public var blockWidth: Int = 64
    /// Upper bound on parallel tasks (`nil`: active processor count).
    public var maxConcurrency: Int? = nil

    public init(options: SignalCleanOptions = SignalCleanOptions()) {
        self.options = options
    }

    /// Cleans `signals` (T x V) with optional `confounds` (T x K).
    /// - Returns: the cleaned T' x V matrix (T' = kept volumes when a sample mask is given).
    /// - Throws: `SignalCleanError` (shape mismatch, series too short for the filter — the message
    ///   names the minimum number of volumes —, invalid cut-offs, all volumes censored).
    public func clean(_ signals: Matrix, confounds: Matrix? = nil) throws -> Matrix {
        let plan = try SignalCleanPlan(options: options, timePoints: signals.rows, confounds: confounds)
        var out = Matrix(rows: plan.outputRows, columns: signals.columns)
        signals.data.withUnsafeBufferPointer { src in
            out.data.withUnsafeMutableBufferPointer { dst in
                run(plan: plan, source: src.baseAddress!, destination: dst.baseAddress!, columns: signals.columns)
            }
        }
        return out
    }

    /// Cleans a contiguous row-major T x V float32 buffer in place (computing in Double).
    ///
    /// - Returns: T', the number of rows kept; the buffer is truncated to T' x V.
    public func clean(inPlace buffer: inout [Float], timePoints: Int, confounds: Matrix? = nil) throws -> Int {
        let kept = try buffer.withUnsafeMutableBufferPointer { try clean(inPlace: $0, timePoints: timePoints, confounds: confounds) }
        buffer.removeLast((timePoints - kept) * (buffer.count / timePoints))
        return kept
    }

    /// What cleaning T time points with these options and confounds will do, without cleaning:
    /// the rows kept, the rank of the confound basis, the degenerate confound columns dropped.
    public func report(timePoints: Int, confounds: Matrix? = nil) throws -> SignalCleanReport {
        let plan = try SignalCleanPlan(options: options, timePoints: timePoints, confounds: confounds)
        return SignalCleanReport(keptRows: plan.outputRows, confoundRank: plan.rank,
                                 droppedConfounds: plan.droppedConfounds.map { .init(column: $0.column, reason: $0.reason) })
    }

    /// Cleans a T x V float32 buffer the caller owns (e.g. a mapped file) in place; the first
    /// T' x V values hold the result.
    /// - Returns: T', the number of rows kept.
    /// - Parameter originalMeans: when given (V values), receives each feature's mean before
    ///   cleaning (after censored volumes are interpolated), as nilearn's `psc` uses it.
    /// - Parameter zeroed: when given (V values), marks the features set to 0 by
    ///   `SignalCleanOptions.minimumRetainedVariance`.
    /// - Parameter originalVariances: when given (V values), receives each feature's variance
    ///   (ddof 0) before cleaning, over the same volumes as `originalMeans`.
    public func clean(inPlace buffer: UnsafeMutableBufferPointer<Float>, timePoints: Int, confounds: Matrix? = nil,
                      originalMeans: UnsafeMutableBufferPointer<Double>? = nil, zeroed: UnsafeMutableBufferPointer<Bool>? = nil,
                      originalVariances: UnsafeMutableBufferPointer<Double>? = nil) throws -> Int {
        guard timePoints > 0, buffer.count % timePoints == 0 else {
            throw SignalCleanError(.shapeMismatch, "buffer of \(buffer.count) values is not \(timePoints) x V")
        }
        let columns = buffer.count / timePoints
        if let originalVariances, originalVariances.count != columns {
            throw SignalCleanError(.shapeMismatch, "originalVariances has \(originalVariances.count) values for \(columns) features")
        }
        if let zeroed, zeroed.count != columns {
            throw SignalCleanError(.shapeMismatch, "zeroed has \(zeroed.count) values for \(columns) features")
        }
        if let originalMeans, originalMeans.count != columns {
            throw SignalCleanError(.shapeMismatch, "originalMeans has \(originalMeans.count) values for \(columns) features")
        }
        let plan = try SignalCleanPlan(options: options, timePoints: timePoints, confounds: confounds)
        if let base = buffer.baseAddress {
            run(plan: plan, source: UnsafePointer(base), destination: base, columns: columns, meansOut: originalMeans, zeroedOut: zeroed,
                variancesOut: originalVariances)
        }
        return plan.outputRows
    }

    private func run<S: BinaryFloatingPoint & Sendable>(plan: SignalCleanPlan, source: UnsafePointer<S>, destination: UnsafeMutablePointer<S>, columns v: Int,
                                                        meansOut: UnsafeMutableBufferPointer<Double>? = nil,
                                                        zeroedOut: UnsafeMutableBufferPointer<Bool>? = nil,
                                                        variancesOut: UnsafeMutableBufferPointer<Double>? = nil) {
        if v == 0 { return }
        let width = max(1, blockWidth)
        let blocks = (v + width - 1) / width
        let tasks = max(1, min(blocks, maxConcurrency ?? ThreadBudget.current))
        let src = SignalUnsafeSendable(pointer: UnsafeMutablePointer(mutating: source))
        let dst = SignalUnsafeSendable(pointer: destination)
        let needsMeans = plan.standardize == .psc || meansOut != nil
        var cleanedMeans = [Double](repeating: 0, count: needsMeans ? v : 0)
        var originalMeans = [Double](repeating: 0, count: needsMeans ? v : 0)
        cleanedMeans.withUnsafeMutableBufferPointer { cm in
            originalMeans.withUnsafeMutableBufferPointer { om in
                let cmp = SignalUnsafeSendable(pointer: needsMeans ? cm.baseAddress : nil)
                let omp = SignalUnsafeSendable(pointer: needsMeans ? om.baseAddress : nil)
                let zp = SignalUnsafeSendable(pointer: zeroedOut?.baseAddress)
                let vp = SignalUnsafeSendable(pointer: variancesOut?.baseAddress)
                // Blocks are dealt one at a time to whichever thread is free (a thread that starts
                // late, or shares its core, would otherwise finish its fixed share alone); each
                // block's values depend only on its columns.
                let next = BlockCounter()
                DispatchQueue.concurrentPerform(iterations: tasks) { _ in
                    var workspace = plan.makeWorkspace(lanes: width)
                    while true {
                        let block = next.take()
                        guard block < blocks else { break }
                        let c0 = block * width, lanes = min(width, v - c0)
                        plan.processBlock(source: src.pointer, destination: dst.pointer, columns: v, firstColumn: c0, lanes: lanes,
                                          workspace: &workspace,
                                          cleanedMeans: cmp.pointer.map { $0 + c0 }, originalMeans: omp.pointer.map { $0 + c0 },
                                          zeroed: zp.pointer.map { $0 + c0 }, variancesOut: vp.pointer.map { $0 + c0 })
                    }
                }
            }
        }
        if plan.standardize == .psc { plan.percentSignalChange(destination, columns: v, cleanedMeans: cleanedMeans, originalMeans: originalMeans) }
        if let meansOut { for c in 0..<v { meansOut[c] = originalMeans[c] } }
    }
}

/// What `SignalClean` does to one run (see `SignalClean.report(timePoints:confounds:)`).
public struct SignalCleanReport: Sendable, Equatable {
    /// A confound column dropped before the regression, and why.
    public struct Dropped: Sendable, Equatable {
        public var column: Int
        public var reason: String
    }
    /// Rows (volumes) in the output.
    public var keptRows: Int
    /// The rank of the confound basis regressed out.
    public var confoundRank: Int
    public var droppedConfounds: [Dropped]
}

extension SignalClean {
    /// Standardises one cleaned series as step 7 of `clean` does for one feature: z-score with
    /// ddof 1 (`zscoreSample`) or 0 (`zscore`), sd below ε → 1; or nilearn's `psc` for a single
    /// feature, given the series' mean before cleaning (its own cleaned/original mean ratio
    /// decides whether that mean is added back). A single time point is returned unchanged.
    ///
    /// This is how a seed is standardised: its series is the mean of the cleaned voxels (cleaning
    /// is linear, so that is the cleaned mean of the raw voxels), standardised afterwards, as
    /// nilearn's seed maskers do.
    public static func standardize(_ x: [Double], _ kind: SignalCleanOptions.Standardization, originalMean: Double) -> [Double] {
        let n = x.count
        guard n > 1 else { return x }
        let mean = x.reduce(0, +) / Double(n)
        switch kind {
        case .zscoreSample, .zscore:
            let ddof = kind == .zscoreSample ? 1.0 : 0.0
            var ss = 0.0
            for v in x { ss += (v - mean) * (v - mean) }
            var sd = (ss / (Double(n) - ddof)).squareRoot()
            if sd < Double.ulpOfOne { sd = 1 }
            return x.map { ($0 - mean) / sd }
        case .psc:
            let addBack = abs(mean) / abs(originalMean) < 0.1
            let add = addBack ? originalMean : 0
            let m = mean + add
            if abs(m) < Double.ulpOfOne { return [Double](repeating: 0, count: n) }
            let shift = add - m, scale = 100 / abs(m)
            return x.map { ($0 + shift) * scale }
        }
    }
}
