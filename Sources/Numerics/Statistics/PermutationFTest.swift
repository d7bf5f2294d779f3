import Dispatch
import Foundation

/// Permutation F tests: the group-level test of a q-column tested block (an F contrast) with
/// Freedman–Lane row permutation, max-F FWE, cluster-extent/mass and TFCE nulls on the F scale.
///
/// Model: Y = T γ + Z δ + ε with T the n x q tested block and Z the nuisance (use
/// `FContrastPartition` — or `runF(design:contrast:…)` — to obtain T and Z from a design and an
/// F contrast matrix). H₀: γ = 0.
///
/// Algorithm (the q-column generalisation of `PermutationTest.run`, same conventions):
/// 1. Nuisance: constant confound columns are dropped; an intercept is added when
///    `modelIntercept` (or a constant confound was given), unless the test is a sign flip; Z is
///    orthonormalised (Gram–Schmidt, intercept first). Rank-deficient nuisance throws.
/// 2. Tested block: each column normalised and residualised on Z, then the block orthonormalised
///    (Q_T, n x q, Q_T ⊥ Z); a column in the span of Z and the other columns throws.
/// 3. Targets normalised, residualised on Z and renormalised (‖y‖ = 1, y ⊥ Z).
/// 4. F = (‖Q_Tᵀy‖² / q) / ((1 − ‖Zᵀy‖² − ‖Q_Tᵀy‖²) / (n − k − q)), k = columns of Z: the
///    OLS F of T given Z (extra sum of squares).
/// 5. Relabeling: rows of (Q_T, Z) permuted together — on the residualised data this is
///    Freedman–Lane (Freedman & Lane 1983; Winkler et al. 2014) — or, when q = 1 and the tested
///    column is constant (one-sample designs), signs flipped. Sign flipping is not offered for
///    q ≥ 2. Relabelings are those of `PermutationTest.run` for the same rows and seed
///    (`PermutationRelabelings`): seeded xoshiro256**, exhaustive enumeration of all distinct
///    relabelings when there are no more than `permutations`.
/// 6. The null F maps are computed for a batch of relabelings at once as one product of the
///    stacked relabeled regressors with the data (`PermutationKernel.multiply`, Float64, or
///    Float32 per `options.precision`), parallel over voxel blocks on all cores; cluster and TFCE
///    statistics are parallel over maps.
///
/// q = 1 is the two-sided t test of `PermutationTest.run`: F = t² voxelwise, max F = (max |t|)²,
/// and for the same seed the FWE and uncorrected p-values agree.
///
/// A test that involves the mean cannot be done by row permutation (permuting rows leaves the
/// mean unchanged): if the constant vector lies in span[T, Z] but not in span Z, `runF` throws
/// `invalidContrast` (for q = 1 with a constant tested column it sign-flips instead).
///
/// Options: `clusterThreshold` is on the F scale (supra-threshold: F > thr; use
/// `ClusterAnalysis.fThreshold(p:dfn:dfd:)`); cluster mass is Σ(F − thr). TFCE is applied to the F
/// map itself (one-sided, E = 0.5, H = 2, 6-connectivity), as FSL randomise does for F contrasts
/// (`-F … -T`); note that on the F scale heights grow like t², so F-TFCE weights peak height more
/// than t-TFCE does and the two are not interchangeable. `twoSided` is ignored (F is
/// non-directional).
extension PermutationTest {
    /// Permutation F test of a design and F contrast C (q x p): partitions with
    /// `FContrastPartition` and runs `runF(tested:confounds:…)` with `modelIntercept = false`.
    /// The observed F equals `GLMFit(design:data:).fContrast(C)`.
    public static func runF(design: Matrix, contrast: Matrix, data: Matrix, grid: MaskGrid? = nil,
                            options: PermutationOptions = PermutationOptions()) throws -> PermutationFResult {
        let part = try FContrastPartition(design: design, contrast: contrast)
        return try runF(tested: part.tested, confounds: part.confounds, data: data, grid: grid, options: part.options(from: options))
    }

    /// Permutation F test of the tested block (n x q) given the confounds (n x k, or nil).
    /// - Throws: `GLMError` on shape mismatch, rank deficiency, a test of the mean that row
    ///   permutation cannot do, df ≤ 0, or bad options.
    public static func runF(tested: Matrix, confounds: Matrix?, data: Matrix, grid: MaskGrid? = nil,
                            options: PermutationOptions = PermutationOptions()) throws -> PermutationFResult {
        let n = tested.rows, q = tested.columns, vCount = data.columns
        guard q > 0 else { throw GLMError(.shapeMismatch, "tested block has no columns") }
        try checkShapes(samples: n, data: data, confounds: confounds, grid: grid, options: options)
        guard tested.data.allSatisfy({ $0.isFinite }) else { throw GLMError(.invalidOption, "tested block has non-finite values") }
        let testedCols = (0..<q).map { tested.column($0) }
        for (j, col) in testedCols.enumerated() where col.allSatisfy({ $0 == 0 }) {
            throw GLMError(.rankDeficientDesign, "tested column \(j) is all zeros")
        }
        let signFlip = q == 1 && testedCols[0].allSatisfy { $0 == testedCols[0][0] }

        let (rawConf, intercept, z) = try nuisanceBasis(confounds, samples: n, signFlip: signFlip, options: options)
        let k = z.count
        let dfd = n - k - q
        guard dfd > 0 else { throw GLMError(.noResidualDegreesOfFreedom, "\(n) samples, \(k) nuisance and \(q) tested columns leave no degrees of freedom") }

        // Tested block: normalise, residualise on Z, orthonormalise.
        var qt: [[Double]] = []
        for (j, col) in testedCols.enumerated() {
            let r = residualize(residualize(normalized(col), on: z), on: qt)
            let rn = norm(r)
            guard rn > 1e-10 else {
                throw GLMError(.rankDeficientDesign, "tested column \(j) lies in the span of the confounds and the other tested columns")
            }
            qt.append(r.map { $0 / rn })
        }
        if !signFlip {
            // Row permutation cannot test the mean: reject if 1 ∈ span[T, Z] but 1 ∉ span Z.
            let one = [Double](repeating: 1 / Double(n).squareRoot(), count: n)
            let offZ = residualize(one, on: z)
            if norm(offZ) > 1e-8 && norm(residualize(offZ, on: qt)) < 1e-8 {
                throw GLMError(.invalidContrast, "the tested block involves the mean (the constant is tested, not nuisance); row permutation cannot test it — use a one-sample (sign-flipping) q = 1 test")
            }
        }

        let targets = residualizedTargets(data, on: z)
        let invalid = targets.invalid

        // Observed F.
        let fScale = Double(dfd) / Double(q)
        var fObs = [Double](repeating: 0, count: vCount)
        targets.values.withUnsafeBufferPointer { yr in
            var ss = [Double](repeating: 0, count: vCount), explained = ss
            for (r, col) in (qt + z).enumerated() {
                var dot = [Double](repeating: 0, count: vCount)
                for i in 0..<n {
                    let ci = col[i], row = yr.baseAddress! + i * vCount
                    for c in 0..<vCount { dot[c] += ci * row[c] }
                }
                for c in 0..<vCount {
                    let d2 = dot[c] * dot[c]
                    explained[c] += d2
                    if r < q { ss[c] += d2 }
                }
            }
            for c in 0..<vCount {
                let rss = 1 - explained[c]
                fObs[c] = invalid[c] ? .nan : rss > 0 ? ss[c] * fScale / rss : (ss[c] > 0 ? .infinity : .nan)
            }
        }

        // Relabelings (shared with `run`: same rows and seed → same relabelings).
        let rows = (0..<n).map { i in testedCols.map { $0[i] } + rawConf.map { $0[i] } }
        let relabeled = PermutationRelabelings(signFlip: signFlip, rows: rows, options: options)
        let relabelings = relabeled.relabelings, exhaustive = relabeled.exhaustive
        let nPerm = relabelings.count
        // Under row permutation the intercept is invariant and orthogonal to the data: skip it.
        let kernelRegressors = qt + (signFlip ? z : Array(z.dropFirst(intercept ? 1 : 0)))
        let rPer = kernelRegressors.count

        let obsCut = observedCuts(fObs, twoSided: false, tolerance: options.tieTolerance)

        let useFloat = usesFloat(options, exhaustive: exhaustive, work: Double(n) * Double(vCount) * Double(nPerm) * Double(rPer))
        let packed = PackedTargets(targets.values, n: n, vCount: vCount, float: useFloat)
        let graphCluster = options.clusterThreshold != nil ? grid!.neighborGraph(options.clusterConnectivity) : nil
        let graphTFCE = options.tfce != nil ? grid!.neighborGraph(.faces) : nil
        let null = nullPass(.f(tested: q), scale: fScale, regressors: kernelRegressors, relabelings: relabelings, exhaustive: exhaustive, signFlip: signFlip,
                            n: n, vCount: vCount, packed: packed, useFloat: useFloat, obsCut: obsCut, options: options,
                            clusterGraph: graphCluster, tfceGraph: graphTFCE)
        let nullMax = null.nullMax, nullSize = null.nullSize, nullMass = null.nullMass, nullTFCE = null.nullTFCE

        // p-values.
        let (unc, fwe) = null.voxelPValues(obsCut: obsCut, invalid: invalid)
        let tfce = options.tfce.flatMap { method in
            graphTFCE.map { tfceInference(fObs, twoSided: false, method: method, graph: $0, null: null, tolerance: options.tieTolerance) }
        }
        return PermutationFResult(f: fObs, dfNumerator: q, dfDenominator: dfd, signFlipping: signFlip, exhaustive: exhaustive,
                                  nullCount: nPerm, uncorrectedP: unc, maxFFWEP: fwe, nullMaxF: nullMax,
                                  nullMaxClusterSize: nullSize, nullMaxClusterMass: nullMass,
                                  tfce: tfce?.map, nullMaxTFCE: nullTFCE, tfceFWEP: tfce?.p)
    }
}

/// Residualised targets packed once into blocks [block][sample][blockWidth] (zero padded), in
/// Float64 or Float32 (internal; the layout `PermutationKernel.multiply` reads).
final class PackedTargets: @unchecked Sendable {
    let double: StatsSendablePointer<Double>
    let float: StatsSendablePointer<Float>
    private let doubleCount: Int, floatCount: Int

    init(_ yr: [Double], n: Int, vCount: Int, float useFloat: Bool) {
        let w = PermutationKernel.blockWidth
        let nBlocks = (vCount + w - 1) / w
        doubleCount = useFloat ? 1 : nBlocks * n * w
        floatCount = useFloat ? nBlocks * n * w : 1
        let d = UnsafeMutablePointer<Double>.allocate(capacity: doubleCount)
        let f = UnsafeMutablePointer<Float>.allocate(capacity: floatCount)
        d.initialize(repeating: 0, count: doubleCount)
        f.initialize(repeating: 0, count: floatCount)
        for blk in 0..<nBlocks {
            let c0 = blk * w, ww = min(w, vCount - c0)
            for i in 0..<n {
                for c in 0..<ww {
                    if useFloat { f[(blk * n + i) * w + c] = Float(yr[i * vCount + c0 + c]) }
                    else { d[(blk * n + i) * w + c] = yr[i * vCount + c0 + c] }
                }
            }
        }
        double = StatsSendablePointer(d)
        float = StatsSendablePointer(f)
    }

    deinit {
        double.base.deallocate()
        float.base.deallocate()
    }
}
