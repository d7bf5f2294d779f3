import Foundation

/// Threshold-free cluster enhancement (Smith & Nichols 2009) of a t map over a mask graph.
///
/// Two definitions, both with extent e = voxel count, defaults E = 0.5, H = 2, and positive and
/// negative parts computed separately (negative voxels get −TFCE of −t) when two-sided:
///
/// - `exact`: TFCE(v) = ∫₀^{u_v} e_v(h)^E h^H dh, u = sign·t, where e_v(h) is the size of the
///   connected component of {u ≥ h} containing v. The component structure only changes at data
///   values, so between consecutive distinct values the extent is constant and each piece is
///   e^E (a^{H+1} − b^{H+1})/(H+1) exactly. Voxels are sorted once by value and activated in
///   decreasing order; components merge with union–find, and each root carries a lazily flushed
///   integral (offsets along union-find paths give every voxel its sum). No step size at all.
///   Implemented in rank space with one radix sort and one sweep for both signs: see
///   `TFCEWorkspace`. Complexity O(V) for the sort + O(V·neighbours·α).
/// - `nilearnStepped`: nilearn 0.14 `calculate_tfce` with dh="auto": h_k = k·max|t|/100
///   (k = 1…100, numpy linspace), voxels with u ≥ h_k, TFCE += e^E·h_k^H (no dh factor, as fslmaths).
///
/// Relation: stepped ≈ exact / dh (a right-endpoint Riemann sum without the dh factor), so the
/// two differ in scale by ~100/max|t| per map, and since dh changes with each permutation's max,
/// stepped values are not comparable across maps in the same way. FSL randomise fixes dh from the
/// unpermuted map and uses strict >; PALM multiplies by dh. pipe's default is `exact`.
public enum TFCE {
    /// Exact, step-free TFCE (see type docs). NaN voxels are treated as 0.
    public static func exact(map: [Double], graph: NeighborGraph, twoSided: Bool = true, E: Double = 0.5, H: Double = 2) -> [Double] {
        var out = [Double](repeating: 0, count: map.count)
        map.withUnsafeBufferPointer { m in
            out.withUnsafeMutableBufferPointer { o in exact(map: m, graph: graph, out: o, twoSided: twoSided, E: E, H: H) }
        }
        return out
    }

    /// Exact TFCE into `out` (overwritten), using `workspace`'s buffers (see `TFCEWorkspace`
    /// for the algorithm); NaN voxels are treated as 0.
    public static func exact(map: UnsafeBufferPointer<Double>, graph: NeighborGraph, out: UnsafeMutableBufferPointer<Double>,
                             twoSided: Bool = true, E: Double = 0.5, H: Double = 2, workspace: TFCEWorkspace = TFCEWorkspace()) {
        precondition(map.count == graph.count && out.count == graph.count)
        let m = workspace.sweep(map: map, graph: graph, twoSided: twoSided, E: E, H: H)
        workspace.scatter(m: m, into: out)
    }

    /// max over voxels of |TFCE| (two-sided) or TFCE (one-sided) of the exact TFCE map — the
    /// statistic of a TFCE permutation null — without writing the map. 0 for an empty map.
    public static func exactMaximum(map: UnsafeBufferPointer<Double>, graph: NeighborGraph, twoSided: Bool = true,
                                    E: Double = 0.5, H: Double = 2, workspace: TFCEWorkspace = TFCEWorkspace()) -> Double {
        workspace.maximum(map: map, graph: graph, twoSided: twoSided, E: E, H: H)
    }

    /// nilearn's stepped TFCE (`nilearn.mass_univariate._utils.calculate_tfce`, dh="auto").
    /// One-sided uses max t (not |t|) for the steps and only positive voxels, as nilearn.
    public static func nilearnStepped(map: [Double], graph: NeighborGraph, twoSided: Bool = true, E: Double = 0.5, H: Double = 2, steps: Int = 100) -> [Double] {
        let v = graph.count
        var out = [Double](repeating: 0, count: v)
        let finite = map.filter { !$0.isNaN }
        guard let maxScore = twoSided ? finite.map({ abs($0) }).max() : finite.max() else { return out }
        let step = maxScore / Double(steps)
        for sign in (twoSided ? [-1.0, 1.0] : [1.0]) {
            for k in 1...steps {
                let h = k == steps ? maxScore : Double(k) * step
                var uf = StatsUnionFind(count: v)
                for m in 0..<v where sign * map[m] >= h && map[m] != 0 {
                    for e in Int(graph.offsets[m])..<Int(graph.offsets[m + 1]) {
                        let q = Int(graph.neighbors[e])
                        if q < m, sign * map[q] >= h, map[q] != 0 { uf.union(Int32(m), Int32(q)) }
                    }
                }
                let hH = Foundation.pow(h, H)
                for m in 0..<v where sign * map[m] >= h && map[m] != 0 {
                    let s = uf.size[Int(uf.find(Int32(m)))]
                    out[m] += sign * Foundation.pow(Double(s), E) * hH
                }
            }
        }
        return out
    }
}
