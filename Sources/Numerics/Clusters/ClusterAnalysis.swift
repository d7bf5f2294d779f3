import Foundation

/// Cluster-level statistics on a voxelwise t map over a `MaskGrid` (nilearn conventions).
///
/// - A voxel is supra-threshold if t > thr (positive clusters) or t < −thr (negative clusters,
///   two-sided only); strict inequality as nilearn `calculate_cluster_measures` (|t| ≤ thr → 0).
/// - Positive and negative clusters are labelled separately: they never merge.
/// - Extent = voxel count; mass = Σ(|t| − thr).
public enum ClusterAnalysis {
    /// The cluster-forming t threshold for an uncorrected p, as nilearn `permuted_ols`:
    /// t.isf(p/2, df) two-sided, t.isf(p, df) one-sided.
    public static func tThreshold(p: Double, df: Double, twoSided: Bool = true) throws -> Double {
        guard p > 0, p < 1 else { throw GLMError(.invalidOption, "cluster-forming p must be in (0, 1), got \(p)") }
        return StudentTDistribution(df: df).isf(twoSided ? p / 2 : p)
    }

    /// The cluster-forming threshold on the F scale for an uncorrected p: F.isf(p; dfn, dfd)
    /// (F tests are one-sided; supra-threshold means F > thr). For dfn = 1 this is
    /// `tThreshold(p:df:twoSided: true)`², the two-sided t threshold squared.
    public static func fThreshold(p: Double, dfn: Double, dfd: Double) throws -> Double {
        guard p > 0, p < 1 else { throw GLMError(.invalidOption, "cluster-forming p must be in (0, 1), got \(p)") }
        guard dfn > 0, dfd > 0 else { throw GLMError(.invalidOption, "F degrees of freedom must be positive, got (\(dfn), \(dfd))") }
        return FDistribution(dfn: dfn, dfd: dfd).isf(p)
    }

    /// Labels clusters. Complexity O(V · neighbours · α(V)).
    public static func label(map: [Double], graph: NeighborGraph, threshold: Double, twoSided: Bool = true) -> ClusterLabeling {
        let v = graph.count
        precondition(map.count == v, "map has \(map.count) values for \(v) mask voxels")
        var uf = StatsUnionFind(count: v)
        for sign in (twoSided ? [1.0, -1.0] : [1.0]) {
            for m in 0..<v where sign * map[m] > threshold {
                for e in Int(graph.offsets[m])..<Int(graph.offsets[m + 1]) {
                    let q = Int(graph.neighbors[e])
                    if q < m, sign * map[q] > threshold { uf.union(Int32(m), Int32(q)) }
                }
            }
        }
        var labels = [Int32](repeating: 0, count: v)
        var rootLabel = [Int32](repeating: 0, count: v)
        var sizes: [Int] = [], masses: [Double] = [], signs: [Int] = [], peaks: [Int] = []
        for sign in (twoSided ? [1.0, -1.0] : [1.0]) {
            for m in 0..<v where sign * map[m] > threshold {
                let r = Int(uf.find(Int32(m)))
                if rootLabel[r] == 0 {
                    sizes.append(0); masses.append(0); signs.append(Int(sign)); peaks.append(m)
                    rootLabel[r] = Int32(sizes.count)
                }
                let k = Int(rootLabel[r])
                labels[m] = Int32(k)
                sizes[k - 1] += 1
                masses[k - 1] += abs(map[m]) - threshold
                if abs(map[m]) > abs(map[peaks[k - 1]]) { peaks[k - 1] = m }
            }
        }
        return ClusterLabeling(labels: labels, sizes: sizes, masses: masses, signs: signs, peaks: peaks)
    }

    /// The largest cluster extent and mass of a map (both 0 without clusters); the statistic
    /// recorded per relabeling for cluster-level FWE.
    public static func maxSizeAndMass(map: UnsafeBufferPointer<Double>, graph: NeighborGraph, threshold: Double, twoSided: Bool) -> (size: Double, mass: Double) {
        let v = graph.count
        var parent = [Int32](repeating: -1, count: v)
        var mass = [Double](repeating: 0, count: v)
        var size = [Int32](repeating: 0, count: v)
        var best = (size: 0.0, mass: 0.0)
        graph.offsets.withUnsafeBufferPointer { off in
            graph.neighbors.withUnsafeBufferPointer { nb in
                parent.withUnsafeMutableBufferPointer { par in
                    func find(_ x0: Int32) -> Int32 {
                        var x = x0
                        while par[Int(x)] != x { let p = par[Int(x)]; par[Int(x)] = par[Int(p)]; x = p }
                        return x
                    }
                    for sign in (twoSided ? [1.0, -1.0] : [1.0]) {
                        for m in 0..<v {
                            let u = sign * map[m]
                            guard u > threshold else { continue }
                            par[m] = Int32(m); size[m] = 1; mass[m] = u - threshold
                            var root = Int32(m)
                            for e in Int(off[m])..<Int(off[m + 1]) {
                                let q = Int(nb[e])
                                guard q < m, sign * map[q] > threshold else { continue }
                                var rq = find(Int32(q))
                                if rq == root { continue }
                                if size[Int(root)] < size[Int(rq)] { swap(&root, &rq) }
                                par[Int(rq)] = root
                                size[Int(root)] += size[Int(rq)]
                                mass[Int(root)] += mass[Int(rq)]
                            }
                        }
                        for m in 0..<v where par[m] == Int32(m) {
                            best.size = max(best.size, Double(size[m]))
                            best.mass = max(best.mass, mass[m])
                        }
                        for m in 0..<v { par[m] = -1 }
                    }
                }
            }
        }
        return best
    }

    /// Family-wise p of each cluster's extent or mass against a permutation null of the maximum:
    /// (1 + #{null ≥ s}) / (N + 1), or #{null ≥ s}/N when `exhaustive` (null includes the identity).
    public static func fweP(_ stats: [Double], null: [Double], exhaustive: Bool, tieTolerance: Double = 1e-10) -> [Double] {
        let sorted = null.sorted()
        return stats.map { s in
            let cut = s - abs(s) * tieTolerance
            var lo = 0, hi = sorted.count
            while lo < hi { let mid = (lo + hi) / 2; if sorted[mid] < cut { lo = mid + 1 } else { hi = mid } }
            let count = sorted.count - lo
            return exhaustive ? Double(count) / Double(sorted.count) : Double(count + 1) / Double(sorted.count + 1)
        }
    }
}
