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
/// 6. Confounds: z-score (ddof 1, std < ε → 1) if `standardizeConfounds`, else divide each column by
///    its max |value| (0 → 1); pivoted QR C P = Q R; keep the columns of Q with |R_ii| > 100 ε;
///    signals −= Q (Qᵀ signals).
/// 7. Standardise (`SignalCleanOptions.Standardization`).
///
/// Where pipe differs from nilearn 0.14.1 (documented choices):
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

    /// Cleans a T x V float32 buffer the caller owns (e.g. a mapped file) in place; the first
    /// T' x V values hold the result.
    /// - Returns: T', the number of rows kept.
    public func clean(inPlace buffer: UnsafeMutableBufferPointer<Float>, timePoints: Int, confounds: Matrix? = nil) throws -> Int {
        guard timePoints > 0, buffer.count % timePoints == 0 else {
            throw SignalCleanError(.shapeMismatch, "buffer of \(buffer.count) values is not \(timePoints) x V")
        }
        let columns = buffer.count / timePoints
        let plan = try SignalCleanPlan(options: options, timePoints: timePoints, confounds: confounds)
        if let base = buffer.baseAddress {
            run(plan: plan, source: UnsafePointer(base), destination: base, columns: columns)
        }
        return plan.outputRows
    }

    private func run<S: BinaryFloatingPoint & Sendable>(plan: SignalCleanPlan, source: UnsafePointer<S>, destination: UnsafeMutablePointer<S>, columns v: Int) {
        if v == 0 { return }
        let width = max(1, blockWidth)
        let blocks = (v + width - 1) / width
        let tasks = min(blocks, max(1, maxConcurrency ?? ProcessInfo.processInfo.activeProcessorCount) * 4)
        let src = SignalUnsafeSendable(pointer: UnsafeMutablePointer(mutating: source))
        let dst = SignalUnsafeSendable(pointer: destination)
        let needsMeans = plan.standardize == .psc
        var cleanedMeans = [Double](repeating: 0, count: needsMeans ? v : 0)
        var originalMeans = [Double](repeating: 0, count: needsMeans ? v : 0)
        cleanedMeans.withUnsafeMutableBufferPointer { cm in
            originalMeans.withUnsafeMutableBufferPointer { om in
                let cmp = SignalUnsafeSendable(pointer: needsMeans ? cm.baseAddress : nil)
                let omp = SignalUnsafeSendable(pointer: needsMeans ? om.baseAddress : nil)
                DispatchQueue.concurrentPerform(iterations: tasks) { task in
                    var workspace = plan.makeWorkspace(lanes: width)
                    var block = task
                    while block < blocks {
                        let c0 = block * width, lanes = min(width, v - c0)
                        plan.processBlock(source: src.pointer, destination: dst.pointer, columns: v, firstColumn: c0, lanes: lanes,
                                          workspace: &workspace,
                                          cleanedMeans: cmp.pointer.map { $0 + c0 }, originalMeans: omp.pointer.map { $0 + c0 })
                        block += tasks
                    }
                }
            }
        }
        if needsMeans { plan.percentSignalChange(destination, columns: v, cleanedMeans: cleanedMeans, originalMeans: originalMeans) }
    }
}
