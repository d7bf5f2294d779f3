import Dispatch
import Foundation

/// Mass-univariate permutation inference with nilearn `permuted_ols` semantics.
///
/// Data convention: samples x targets — `data` is n x V (subjects x in-mask voxels).
///
/// Order of operations (as nilearn 0.14.1):
/// 1. The tested variable is the intercept if it is constant → sign-flipping; else rows are permuted.
/// 2. Constant confound columns are dropped; an intercept is added to the confounds when
///    `modelIntercept` (or a constant confound was given) and the tested variable is not constant.
/// 3. Confounds Z are orthonormalised (Gram–Schmidt, intercept first; nilearn uses an SVD — the
///    span and hence every t is the same). Rank-deficient confounds are an error (nilearn drops
///    columns silently).
/// 4. Targets are normalised, residualised on Z and renormalised; so is the tested variable x.
/// 5. t = b·√((n − k − 1)/(1 − ‖Zᵀy‖² − b²)), b = yᵀx, k = columns of Z — the OLS t of x in [x, Z].
/// 6. Each relabeling transforms (x, Z) together: rows permuted (equivalent to Freedman–Lane) or,
///    for the intercept test, signs flipped; the t map of the relabeled design is computed for all
///    targets by a batched product (see `PermutationKernel`), parallel over voxel blocks.
///    Under row permutation the intercept column of Z is skipped (Yᵀ1 = 0 after residualising).
/// 7. Max-T FWE p = (1 + #{null max ≥ t}) / (N + 1); uncorrected p likewise per voxel.
///
/// Arithmetic: see `PermutationPrecision` (Float64 for exhaustive/small runs, Float32 products for
/// large random runs by default). Memory: the packed data (n·V values) plus, with cluster/TFCE
/// nulls, up to 32 full t maps per batch. Parallel: voxel blocks across all cores for the
/// products; maps across cores for cluster/TFCE statistics. Deterministic for a seed regardless
/// of core count (relabelings are drawn up front in order).
///
/// Exhaustive mode: if the number of distinct relabelings N (2ⁿ sign flips, or the multinomial
/// n!/∏mᵢ! over groups of identical (tested, confound) rows) is ≤ `permutations`, all N are
/// enumerated, the identity included once, and p = #{null ≥ t}/N exactly.
///
/// Deliberate differences from nilearn: our own seeded xoshiro256** (results cannot match numpy's
/// random stream); a single constant confound with a non-constant tested variable stays a
/// permutation test (nilearn switches to sign-flipping there); rank-deficient confounds throw;
/// ties within `tieTolerance` count as ≥.
public enum PermutationTest {
    /// Runs the test.
    /// - Parameters:
    ///   - tested: the tested regressor (length n); constant → one-sample sign-flip test.
    ///   - confounds: n x k nuisance covariates, or nil.
    ///   - data: n x V targets.
    ///   - grid: the mask grid of the V targets; required for cluster and TFCE nulls.
    /// - Throws: `GLMError` on shape mismatch, rank deficiency, df ≤ 0, or bad options.
    public static func run(tested: [Double], confounds: Matrix?, data: Matrix, grid: MaskGrid? = nil, options: PermutationOptions = PermutationOptions()) throws -> PermutationResult {
        let n = tested.count, vCount = data.columns
        try checkShapes(samples: n, data: data, confounds: confounds, grid: grid, options: options)
        guard tested.allSatisfy({ $0.isFinite }) else { throw GLMError(.invalidOption, "tested variable has non-finite values") }
        let signFlip = tested.allSatisfy { $0 == tested[0] }
        guard !(signFlip && tested[0] == 0) else { throw GLMError(.rankDeficientDesign, "tested variable is all zeros") }

        let (rawConf, intercept, z) = try nuisanceBasis(confounds, samples: n, signFlip: signFlip, options: options)
        let k = z.count
        let dof = n - k
        guard dof - 1 > 0 else { throw GLMError(.noResidualDegreesOfFreedom, "\(n) samples, \(k) confounds and 1 tested variable leave no degrees of freedom") }

        // Tested variable: normalise, residualise, renormalise.
        var x = normalized(tested)
        x = residualize(x, on: z)
        let xNorm = norm(x)
        guard xNorm > 1e-10 else { throw GLMError(.rankDeficientDesign, "tested variable lies in the span of the confounds") }
        x = x.map { $0 / xNorm }

        // Targets: Yr (n x V row-major), normalised, residualised, renormalised; zero-variance → 0.
        let targets = residualizedTargets(data, on: z)
        var yr = targets.values
        let invalid = targets.invalid

        // Observed t (nilearn's formula, all confound columns).
        let scale = Double(dof - 1)
        var tObs = [Double](repeating: 0, count: vCount)
        do {
            var b = [Double](repeating: 0, count: vCount)
            var a2 = [Double](repeating: 0, count: vCount)
            for i in 0..<n {
                let xi = x[i]
                for c in 0..<vCount { b[c] += xi * yr[i * vCount + c] }
            }
            for zc in z {
                var dot = [Double](repeating: 0, count: vCount)
                for i in 0..<n {
                    let zi = zc[i]
                    for c in 0..<vCount { dot[c] += zi * yr[i * vCount + c] }
                }
                for c in 0..<vCount { a2[c] += dot[c] * dot[c] }
            }
            for c in 0..<vCount {
                tObs[c] = invalid[c] ? .nan : b[c] * (scale / (1 - a2[c] - b[c] * b[c])).squareRoot()
            }
        }

        // Relabelings.
        let kernelZ: [[Double]] = signFlip ? z : Array(z.dropFirst(intercept ? 1 : 0))
        let rPer = 1 + kernelZ.count
        let relabeled = PermutationRelabelings(signFlip: signFlip, rows: (0..<n).map { i in [tested[i]] + rawConf.map { $0[i] } }, options: options)
        let relabelings = relabeled.relabelings  // permutation: row indices; sign flip: ±1 as Int32
        let exhaustive = relabeled.exhaustive
        let nPerm = relabelings.count

        let obsCut = observedCuts(tObs, twoSided: options.twoSided, tolerance: options.tieTolerance)

        let graphCluster = options.clusterThreshold != nil ? grid!.neighborGraph(options.clusterConnectivity) : nil
        let graphTFCE = options.tfce != nil ? grid!.neighborGraph(.faces) : nil
        let useFloat = usesFloat(options, exhaustive: exhaustive, work: Double(n) * Double(vCount) * Double(nPerm) * Double(rPer))
        let packed = PackedTargets(yr, n: n, vCount: vCount, float: useFloat)
        yr = []
        let null = nullPass(.t(twoSided: options.twoSided), scale: scale, regressors: [x] + kernelZ, relabelings: relabelings, exhaustive: exhaustive,
                            signFlip: signFlip, n: n, vCount: vCount, packed: packed, useFloat: useFloat, obsCut: obsCut, options: options,
                            clusterGraph: graphCluster, tfceGraph: graphTFCE)
        let nullMax = null.nullMax, nullSize = null.nullSize, nullMass = null.nullMass, nullTFCE = null.nullTFCE

        // p-values.
        let (unc, fwe) = null.voxelPValues(obsCut: obsCut, invalid: invalid)
        let tfce = options.tfce.flatMap { method in
            graphTFCE.map { tfceInference(tObs, twoSided: options.twoSided, method: method, graph: $0, null: null, tolerance: options.tieTolerance) }
        }
        return PermutationResult(t: tObs, df: dof - 1, signFlipping: signFlip, exhaustive: exhaustive, nullCount: nPerm,
                                 uncorrectedP: unc, maxTFWEP: fwe, nullMaxT: nullMax,
                                 nullMaxClusterSize: nullSize, nullMaxClusterMass: nullMass,
                                 tfce: tfce?.map, nullMaxTFCE: nullTFCE, tfceFWEP: tfce?.p)
    }

    // MARK: helpers

    /// The checks `run` and `runF` share: n > 1 samples in the data and confounds, valid counts,
    /// and a mask grid of the targets for cluster or TFCE inference.
    static func checkShapes(samples n: Int, data: Matrix, confounds: Matrix?, grid: MaskGrid?, options: PermutationOptions) throws {
        guard data.rows == n, n > 1 else { throw GLMError(.shapeMismatch, "data has \(data.rows) rows for \(n) samples") }
        if let c = confounds, c.rows != n { throw GLMError(.shapeMismatch, "confounds have \(c.rows) rows for \(n) samples") }
        guard options.permutations >= 0, options.batchSize > 0 else { throw GLMError(.invalidOption, "permutations and batch size must be positive") }
        if options.clusterThreshold != nil || options.tfce != nil {
            guard let g = grid, g.count == data.columns else {
                throw GLMError(.shapeMismatch, "cluster/TFCE statistics need a mask grid with \(data.columns) voxels")
            }
        }
    }

    /// The nuisance model: the confound columns that are not constant (`raw`, as given), whether
    /// an intercept is modelled (asked, or a constant confound column, unless signs are flipped),
    /// and the orthonormal basis `z` of [intercept, raw].
    static func nuisanceBasis(_ confounds: Matrix?, samples n: Int, signFlip: Bool, options: PermutationOptions) throws
        -> (raw: [[Double]], intercept: Bool, z: [[Double]]) {
        var raw: [[Double]] = []
        var hadConstant = false
        if let c = confounds {
            for j in 0..<c.columns {
                let col = c.column(j)
                if col.allSatisfy({ $0 == col[0] }) { hadConstant = true } else { raw.append(col) }
            }
        }
        let intercept = !signFlip && (options.modelIntercept || hadConstant)
        let z = try orthonormalize((intercept ? [[Double](repeating: 1, count: n)] : []) + raw)
        return (raw, intercept, z)
    }

    /// Targets (n x V, row-major) normalised, residualised on the orthonormal columns `z` and
    /// renormalised, in parallel over blocks of 256 voxels; zero-variance or non-finite targets and
    /// targets in the span of `z` are flagged invalid and set to 0.
    static func residualizedTargets(_ data: Matrix, on z: [[Double]]) -> (values: [Double], invalid: [Bool]) {
        let n = data.rows, vCount = data.columns
        var yr = data.data
        var invalid = [Bool](repeating: false, count: vCount)
        let zFlat = z  // [[Double]] columns
        yr.withUnsafeMutableBufferPointer { yb in
            invalid.withUnsafeMutableBufferPointer { ib in
                let yp = StatsSendablePointer(yb.baseAddress!), ip = StatsSendablePointer(ib.baseAddress!)
                let block = 256, nb = (vCount + block - 1) / block
                Parallel.forEach(nb) { b in
                    let c0 = b * block, w = min(block, vCount - c0)
                    var col = [Double](repeating: 0, count: n)
                    for c in c0..<(c0 + w) {
                        for i in 0..<n { col[i] = yp[i * vCount + c] }
                        let n1 = norm(col)
                        var ok = n1 > 0 && n1.isFinite
                        if ok {
                            for i in 0..<n { col[i] /= n1 }
                            col = residualize(col, on: zFlat)
                            let n2 = norm(col)
                            ok = n2 > 1e-13
                            if ok { for i in 0..<n { col[i] /= n2 } }
                        }
                        if !ok { ip[c] = true; for i in 0..<n { col[i] = 0 } }
                        for i in 0..<n { yp[i * vCount + c] = col[i] }
                    }
                }
            }
        }
        return (yr, invalid)
    }

    static func norm(_ v: [Double]) -> Double { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }
    static func normalized(_ v: [Double]) -> [Double] { let s = norm(v); return v.map { $0 / s } }

    /// v − Z Zᵀ v for orthonormal columns Z (applied twice for stability).
    static func residualize(_ v: [Double], on z: [[Double]]) -> [Double] {
        var r = v
        for _ in 0..<2 {
            for zc in z {
                var d = 0.0
                for i in 0..<r.count { d += zc[i] * r[i] }
                for i in 0..<r.count { r[i] -= d * zc[i] }
            }
        }
        return r
    }

    /// Modified Gram–Schmidt with reorthogonalisation; throws on a (numerically) dependent column.
    static func orthonormalize(_ cols: [[Double]]) throws -> [[Double]] {
        var out: [[Double]] = []
        for (j, c) in cols.enumerated() {
            let n0 = norm(c)
            let r = residualize(c, on: out)
            let n1 = norm(r)
            guard n0 > 0, n1 > 1e-10 * n0 else {
                throw GLMError(.rankDeficientDesign, "confound column \(j) is a linear combination of the others")
            }
            out.append(r.map { $0 / n1 })
        }
        return out
    }

    /// All distinct orderings of a multiset of class labels, in lexicographic order starting from
    /// the sorted one; each is mapped to row indices (the k-th occurrence of a class takes that
    /// class's k-th row), so the identity ordering maps to the identity permutation.
    static func enumerateMultiset(classOf: [Int]) -> [[Int32]] {
        let n = classOf.count
        var rowsOfClass: [[Int32]] = Array(repeating: [], count: (classOf.max() ?? 0) + 1)
        for i in 0..<n { rowsOfClass[classOf[i]].append(Int32(i)) }
        var seq = classOf.sorted()
        var out: [[Int32]] = []
        while true {
            var used = [Int](repeating: 0, count: rowsOfClass.count)
            out.append(seq.map { c in defer { used[c] += 1 }; return rowsOfClass[c][used[c]] })
            // next permutation
            var i = n - 2
            while i >= 0 && seq[i] >= seq[i + 1] { i -= 1 }
            if i < 0 { break }
            var j = n - 1
            while seq[j] <= seq[i] { j -= 1 }
            seq.swapAt(i, j)
            seq[(i + 1)...].reverse()
        }
        return out
    }
}
