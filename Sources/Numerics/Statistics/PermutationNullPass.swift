import Foundation

/// The null pass shared by the t test (`run`) and the F test (`runF`).
extension PermutationTest {
    /// What the pass computes from each product tile.
    enum NullStatistic {
        /// t of the first regressor (`PermutationKernel.tPass`); |t| for the maxima and counts when
        /// two-sided.
        case t(twoSided: Bool)
        /// F of the first `tested` regressors (`PermutationKernel.fPass`); one-sided.
        case f(tested: Int)

        var twoSided: Bool {
            if case .t(let twoSided) = self { return twoSided }
            return false
        }
    }

    /// The null distributions: per relabeling the maximum statistic (and cluster size, mass and
    /// TFCE maxima when asked), and per voxel how many null values reached its observed cut.
    struct NullPassOutput {
        var nullMax: [Double]
        var exceed: [Double]
        var nullSize: [Double]?
        var nullMass: [Double]?
        var nullTFCE: [Double]?
        /// All distinct relabelings were enumerated (identity included).
        var exhaustive: Bool

        /// Per valid voxel, the uncorrected p (its own null counts) and the max-statistic FWE p
        /// of its observed cut; NaN for invalid voxels or without relabelings.
        func voxelPValues(obsCut: [Double], invalid: [Bool]) -> (uncorrected: [Double], fwe: [Double]) {
            let vCount = invalid.count
            var unc = [Double](repeating: .nan, count: vCount), fwe = unc
            guard !nullMax.isEmpty else { return (unc, fwe) }
            let sortedNull = nullMax.sorted()
            for c in 0..<vCount where !invalid[c] {
                unc[c] = PermutationTest.permutationP(count: Int(exceed[c]), nullCount: nullMax.count, exhaustive: exhaustive)
                fwe[c] = PermutationTest.permutationP(count: countAtLeast(sortedNull, obsCut[c]), nullCount: nullMax.count, exhaustive: exhaustive)
            }
            return (unc, fwe)
        }
    }

    /// The observed cut of each target for counting null values against it: the statistic (|t|
    /// when two-sided) lowered by the tie tolerance; a NaN statistic gets +∞ (never reached).
    /// Padded to whole kernel blocks with +∞.
    static func observedCuts(_ stat: [Double], twoSided: Bool, tolerance: Double) -> [Double] {
        let w = PermutationKernel.blockWidth
        var cuts = [Double](repeating: .infinity, count: (stat.count + w - 1) / w * w)
        for (c, v) in stat.enumerated() {
            let st = twoSided ? abs(v) : v
            cuts[c] = st.isNaN ? .infinity : st - abs(st) * tolerance
        }
        return cuts
    }

    /// The observed TFCE map of `stat` (NaN read as 0) and, with a null, its FWE p per target.
    static func tfceInference(_ stat: [Double], twoSided: Bool, method: TFCEMethod, graph: NeighborGraph,
                              null: NullPassOutput, tolerance: Double) -> (map: [Double], p: [Double]?) {
        let clean = stat.map { $0.isNaN ? 0 : $0 }
        let map = method == .exact ? TFCE.exact(map: clean, graph: graph, twoSided: twoSided)
                                   : TFCE.nilearnStepped(map: clean, graph: graph, twoSided: twoSided)
        guard let nullTFCE = null.nullTFCE, !nullTFCE.isEmpty else { return (map, nil) }
        let sorted = nullTFCE.sorted()
        let p = map.map { v in
            let st = twoSided ? abs(v) : v
            return permutationP(count: countAtLeast(sorted, st - abs(st) * tolerance), nullCount: nullTFCE.count, exhaustive: null.exhaustive)
        }
        return (map, p)
    }

    /// A permutation p from the number of null values at least as large as the observed one:
    /// #/N when exhaustive (the identity is in the null), else (1 + #)/(N + 1), as nilearn.
    static func permutationP(count: Int, nullCount: Int, exhaustive: Bool) -> Double {
        exhaustive ? Double(count) / Double(nullCount) : Double(count + 1) / Double(nullCount + 1)
    }

    /// Whether the product runs in Float32: as the options say, or (automatic) for random
    /// relabelings once the work n·V·relabelings·regressors reaches 2e10. Exhaustive nulls stay in
    /// Double so that mirror relabelings tie exactly.
    static func usesFloat(_ options: PermutationOptions, exhaustive: Bool, work: Double) -> Bool {
        switch options.precision {
        case .double: return false
        case .float: return true
        case .automatic: return !exhaustive && work >= 2e10
        }
    }

    /// Runs the relabelings in batches. Per batch, the relabeled regressors (rows (b, r): tested
    /// first, then nuisance; sign flips multiply, permutations reorder) are stacked and packed
    /// into panels; each block of 64 voxels is multiplied with the packed targets, in parallel
    /// over chunks of blocks, and the statistic pass updates the maxima, the counts against
    /// `obsCut` (padded to whole blocks with +∞) and, with cluster or TFCE inference, the batch's
    /// null maps, whose spatial maxima `spatialMaxima` then takes.
    static func nullPass(_ statistic: NullStatistic, scale: Double, regressors: [[Double]], relabelings: [[Int32]], exhaustive: Bool, signFlip: Bool,
                         n: Int, vCount: Int, packed: PackedTargets, useFloat: Bool, obsCut: [Double], options: PermutationOptions,
                         clusterGraph: NeighborGraph?, tfceGraph: NeighborGraph?) -> NullPassOutput {
        let nPerm = relabelings.count, rPer = regressors.count
        let spatial = clusterGraph != nil || tfceGraph != nil
        let w = PermutationKernel.blockWidth
        let nBlocks = (vCount + w - 1) / w
        let vPad = nBlocks * w
        precondition(obsCut.count == vPad, "the observed cuts are padded to whole blocks")
        let obsCutF = obsCut.map { Float($0) }
        var out = NullPassOutput(nullMax: [Double](repeating: -.infinity, count: nPerm), exceed: [Double](repeating: 0, count: vPad),
                                 nullSize: options.clusterThreshold != nil ? [Double](repeating: 0, count: nPerm) : nil,
                                 nullMass: options.clusterThreshold != nil ? [Double](repeating: 0, count: nPerm) : nil,
                                 nullTFCE: options.tfce != nil ? [Double](repeating: 0, count: nPerm) : nil, exhaustive: exhaustive)

        let batch = spatial ? min(options.batchSize, 32) : options.batchSize
        let workers = max(1, ThreadBudget.current)
        let chunks = min(nBlocks, workers * 4)
        let maps = UnsafeMutablePointer<Double>.allocate(capacity: spatial ? batch * vPad : 1)
        defer { maps.deallocate() }
        let tfceWorkspaces = (0..<min(workers, batch)).map { _ in TFCEWorkspace() }

        var start = 0
        while start < nPerm {
            let bCount = min(batch, nPerm - start)
            var a = [Double](repeating: 0, count: bCount * rPer * n)
            for b in 0..<bCount {
                let lab = relabelings[start + b]
                for (r, src) in regressors.enumerated() {
                    let base = (b * rPer + r) * n
                    if signFlip { for i in 0..<n { a[base + i] = Double(lab[i]) * src[i] } }
                    else { for i in 0..<n { a[base + i] = src[Int(lab[i])] } }
                }
            }
            let panelRows = bCount * rPer
            let panelCount = (panelRows + 3) / 4
            let panels = useFloat ? [0] : PermutationKernel.packPanels(a, rows: panelRows, n: n)
            let panelsF = useFloat ? PermutationKernel.packPanelsFloat(a, rows: panelRows, n: n) : [0]
            var chunkMax = [Double](repeating: -.infinity, count: chunks * bCount)
            panels.withUnsafeBufferPointer { pp in panelsF.withUnsafeBufferPointer { ppf in
            chunkMax.withUnsafeMutableBufferPointer { cm in out.exceed.withUnsafeMutableBufferPointer { ex in
            obsCut.withUnsafeBufferPointer { oc in obsCutF.withUnsafeBufferPointer { ocf in
                let pan = StatsSendablePointer(UnsafeMutablePointer(mutating: pp.baseAddress!))
                let panF = StatsSendablePointer(UnsafeMutablePointer(mutating: ppf.baseAddress!))
                let cmp = StatsSendablePointer(cm.baseAddress!), exp = StatsSendablePointer(ex.baseAddress!)
                let ocp = StatsSendablePointer(UnsafeMutablePointer(mutating: oc.baseAddress!))
                let ocpF = StatsSendablePointer(UnsafeMutablePointer(mutating: ocf.baseAddress!))
                let mapsOut = spatial ? StatsSendablePointer(maps) : nil
                Parallel.forEach(chunks) { ch in
                    let b0 = ch * nBlocks / chunks, b1 = (ch + 1) * nBlocks / chunks
                    let cBuf = UnsafeMutablePointer<Double>.allocate(capacity: useFloat ? 1 : panelCount * 4 * w)
                    let cBufF = UnsafeMutablePointer<Float>.allocate(capacity: useFloat ? panelCount * 4 * w : 1)
                    let localMax = UnsafeMutablePointer<Double>.allocate(capacity: bCount)
                    defer { cBuf.deallocate(); cBufF.deallocate(); localMax.deallocate() }
                    localMax.initialize(repeating: -.infinity, count: bCount)
                    for blk in b0..<b1 {
                        let c0 = blk * w
                        let mapOut = mapsOut.map { $0.base + c0 }
                        if useFloat {
                            PermutationKernel.multiplyFloat(panels: panF.base, panelCount: panelCount, n: n, yb: packed.float.base + blk * n * w, c: cBufF)
                        } else {
                            PermutationKernel.multiply(panels: pan.base, panelCount: panelCount, n: n, yb: packed.double.base + blk * n * w, c: cBuf)
                        }
                        switch (statistic, useFloat) {
                        case (.t(let twoSided), true):
                            PermutationKernel.tPassFloat(c: cBufF, bCount: bCount, rPer: rPer, scale: scale, twoSided: twoSided, cut: ocpF.base + c0,
                                                         exceed: exp.base + c0, localMax: localMax, tOut: mapOut, tStride: vPad)
                        case (.t(let twoSided), false):
                            PermutationKernel.tPass(c: cBuf, bCount: bCount, rPer: rPer, scale: scale, twoSided: twoSided, cut: ocp.base + c0,
                                                    exceed: exp.base + c0, localMax: localMax, tOut: mapOut, tStride: vPad)
                        case (.f(let q), true):
                            PermutationKernel.fPassFloat(c: cBufF, bCount: bCount, rPer: rPer, q: q, scale: scale, cut: ocpF.base + c0,
                                                         exceed: exp.base + c0, localMax: localMax, fOut: mapOut, fStride: vPad)
                        case (.f(let q), false):
                            PermutationKernel.fPass(c: cBuf, bCount: bCount, rPer: rPer, q: q, scale: scale, cut: ocp.base + c0,
                                                    exceed: exp.base + c0, localMax: localMax, fOut: mapOut, fStride: vPad)
                        }
                    }
                    for b in 0..<bCount { cmp[ch * bCount + b] = localMax[b] }
                }
            } } } } } }
            for b in 0..<bCount {
                var m = -Double.infinity
                for ch in 0..<chunks { m = max(m, chunkMax[ch * bCount + b]) }
                out.nullMax[start + b] = m
            }
            if spatial {
                let stats = spatialMaxima(maps: maps, count: bCount, stride: vPad, vCount: vCount, options: options,
                                          twoSided: statistic.twoSided, clusterGraph: clusterGraph, tfceGraph: tfceGraph,
                                          workspaces: tfceWorkspaces)
                for b in 0..<bCount {
                    out.nullSize?[start + b] = stats.size[b]; out.nullMass?[start + b] = stats.mass[b]; out.nullTFCE?[start + b] = stats.tfce[b]
                }
            }
            start += bCount
        }
        return out
    }

    /// Number of sorted values ≥ cut (binary search).
    static func countAtLeast(_ sorted: [Double], _ cut: Double) -> Int {
        var lo = 0, hi = sorted.count
        while lo < hi { let mid = (lo + hi) / 2; if sorted[mid] < cut { lo = mid + 1 } else { hi = mid } }
        return sorted.count - lo
    }

    /// Max cluster extent, mass and TFCE of `count` maps stored `stride` apart (signed t maps
    /// two-sided, or one-sided F maps), parallel over maps: one worker per TFCE workspace, maps
    /// dealt round-robin.
    static func spatialMaxima(maps: UnsafeMutablePointer<Double>, count: Int, stride: Int, vCount: Int, options: PermutationOptions,
                              twoSided: Bool, clusterGraph: NeighborGraph?, tfceGraph: NeighborGraph?,
                              workspaces: [TFCEWorkspace]) -> (size: [Double], mass: [Double], tfce: [Double]) {
        var sizes = [Double](repeating: 0, count: count), masses = sizes, tf = sizes
        let thr = options.clusterThreshold, method = options.tfce
        let mp = StatsSendablePointer(maps)
        sizes.withUnsafeMutableBufferPointer { sb in masses.withUnsafeMutableBufferPointer { mb in tf.withUnsafeMutableBufferPointer { fb in
            let sp = StatsSendablePointer(sb.baseAddress!), msp = StatsSendablePointer(mb.baseAddress!), fp = StatsSendablePointer(fb.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: workspaces.count) { wk in
                for b in Swift.stride(from: wk, to: count, by: workspaces.count) {
                    let map = UnsafeBufferPointer(start: mp.base + b * stride, count: vCount)
                    if let thr, let g = clusterGraph {
                        let r = ClusterAnalysis.maxSizeAndMass(map: map, graph: g, threshold: thr, twoSided: twoSided)
                        sp[b] = r.size; msp[b] = r.mass
                    }
                    if let method, let g = tfceGraph {
                        switch method {
                        case .exact:
                            fp[b] = TFCE.exactMaximum(map: map, graph: g, twoSided: twoSided, workspace: workspaces[wk])
                        case .nilearnStepped:
                            fp[b] = TFCE.nilearnStepped(map: Array(map), graph: g, twoSided: twoSided)
                                .reduce(0) { max($0, twoSided ? abs($1) : $1) }
                        }
                    }
                }
            }
        } } }
        return (sizes, masses, tf)
    }
}
