import Foundation

/// A peak/cluster table following nilearn 0.14 `get_clusters_table` (volume case).
///
/// Order of operations, as nilearn:
/// 1. For each sign (+ only, or + then − when `twoSided`): voxels with sign·stat > threshold,
///    6-connected clusters; clusters with fewer than `minClusterSize` voxels dropped (threshold_img).
/// 2. Clusters sorted by descending peak (sign·stat).
/// 3. Per cluster, sub-peaks of the cluster-masked map (zeros elsewhere): voxels equal to the
///    3x3x3 maximum filter, non-zero, and (unless the cluster is constant) not equal to the 3x3x3
///    minimum filter; plateaus grouped 6-connected; each plateau's value-weighted centre of mass,
///    rounded half-to-even (nearest plateau voxel if that falls outside the plateau).
/// 4. Sub-peaks sorted by descending value, pared with nilearn's loop (for each kept i, every
///    later j is re-set to dist(i, j) > minDistance mm — later kept peaks can re-admit j, exactly
///    as nilearn), and at most 4 rows kept: the peak and up to 3 sub-peaks "1a", "1b", "1c".
/// 5. IDs count from 1 per sign, offset by the number of rows already written (nilearn's
///    `offset = len(rows)`), so negative clusters continue after the positive rows.
/// Size in mm³ = Int(voxels · |det affine[:3, :3]|) (nilearn uses the header zooms — equal for
/// non-oblique images). Extra columns vs nilearn: size in voxels and centre of mass (mm).
public enum ClusterTable {
    /// Builds the table.
    /// - Parameters:
    ///   - map: statistic per in-mask voxel of `grid`.
    ///   - affine: 4x4 voxel-to-mm affine as 16 numbers, row-major.
    ///   - threshold: cluster-forming statistic threshold (> threshold is in).
    ///   - minClusterSize: clusters smaller than this many voxels are dropped (default 0).
    ///   - twoSided: also report negative clusters (nilearn default false).
    ///   - minDistance: minimum sub-peak distance in mm (default 8).
    public static func make(map: [Double], grid: MaskGrid, affine: [Double], threshold: Double, minClusterSize: Int = 0, twoSided: Bool = false, minDistance: Double = 8) -> [ClusterTableRow] {
        precondition(affine.count == 16 && map.count == grid.count)
        let nx = grid.nx, ny = grid.ny, nz = grid.nz
        let total = nx * ny * nz
        func mm(_ i: Double, _ j: Double, _ k: Double) -> (Double, Double, Double) {
            (affine[0] * i + affine[1] * j + affine[2] * k + affine[3],
             affine[4] * i + affine[5] * j + affine[6] * k + affine[7],
             affine[8] * i + affine[9] * j + affine[10] * k + affine[11])
        }
        let det = affine[0] * (affine[5] * affine[10] - affine[6] * affine[9])
            - affine[1] * (affine[4] * affine[10] - affine[6] * affine[8])
            + affine[2] * (affine[4] * affine[9] - affine[5] * affine[8])
        let voxelVolume = abs(det)
        var full = [Double](repeating: 0, count: total)
        for (m, g) in grid.voxelIndices.enumerated() { full[g] = map[m].isFinite ? map[m] : 0 }
        let faceGraph = MaskGrid(nx: nx, ny: ny, nz: nz).neighborGraph(.faces)
        var rows: [ClusterTableRow] = []
        for sign in (twoSided ? [1.0, -1.0] : [1.0]) {
            let offset = rows.count
            let signed = full.map { sign * $0 }
            let lab = ClusterAnalysis.label(map: signed, graph: faceGraph, threshold: threshold, twoSided: false)
            var clusters: [(label: Int32, peak: Double, voxels: [Int])] = []
            var members = [[Int]](repeating: [], count: lab.count)
            for g in 0..<total where lab.labels[g] > 0 { members[Int(lab.labels[g]) - 1].append(g) }
            for k in 0..<lab.count where members[k].count >= minClusterSize {
                clusters.append((Int32(k + 1), members[k].map { signed[$0] }.max()!, members[k]))
            }
            clusters.sort { $0.peak > $1.peak }
            for (cIndex, cluster) in clusters.enumerated() {
                var masked = [Double](repeating: 0, count: total)
                for g in cluster.voxels { masked[g] = signed[g] }
                let peaks = subPeaks(masked, nx: nx, ny: ny, nz: nz)
                    .map { (ijk: $0.ijk, value: $0.value, xyz: mm(Double($0.ijk.0), Double($0.ijk.1), Double($0.ijk.2))) }
                var sorted = peaks
                sorted.sort { $0.value > $1.value }
                var keep = [Bool](repeating: true, count: sorted.count)
                for i in 0..<sorted.count {
                    for j in (i + 1)..<max(i + 1, sorted.count) where keep[i] {
                        let d = ((sorted[i].xyz.0 - sorted[j].xyz.0) * (sorted[i].xyz.0 - sorted[j].xyz.0)
                                 + (sorted[i].xyz.1 - sorted[j].xyz.1) * (sorted[i].xyz.1 - sorted[j].xyz.1)
                                 + (sorted[i].xyz.2 - sorted[j].xyz.2) * (sorted[i].xyz.2 - sorted[j].xyz.2)).squareRoot()
                        keep[j] = d > minDistance
                    }
                }
                let kept = zip(sorted, keep).filter { $0.1 }.map { $0.0 }
                // Centre of mass weighted by |stat| over the cluster.
                var w = 0.0, ci = 0.0, cj = 0.0, ck = 0.0
                for g in cluster.voxels {
                    let a = abs(full[g])
                    w += a; ci += a * Double(g % nx); cj += a * Double((g / nx) % ny); ck += a * Double(g / (nx * ny))
                }
                let com = mm(ci / w, cj / w, ck / w)
                let letters = Array("abcdefghijklmnopqrstuvwxyz")
                for (s, p) in kept.prefix(4).enumerated() {
                    let id = s == 0 ? "\(cIndex + offset + 1)" : "\(cIndex + offset + 1)\(letters[s - 1])"
                    rows.append(ClusterTableRow(id: id, x: p.xyz.0, y: p.xyz.1, z: p.xyz.2, peakStat: p.value * sign,
                                                clusterSizeMM3: s == 0 ? Int(Double(cluster.voxels.count) * voxelVolume) : nil,
                                                clusterSizeVoxels: s == 0 ? cluster.voxels.count : nil,
                                                centerOfMass: s == 0 ? (com.0, com.1, com.2) : nil))
                }
            }
        }
        return rows
    }

    /// nilearn `_identify_subpeaks` on a full grid (x fastest): plateau centres and values.
    static func subPeaks(_ data: [Double], nx: Int, ny: Int, nz: Int) -> [(ijk: (Int, Int, Int), value: Double)] {
        let total = nx * ny * nz
        var maxF = data, minF = data
        for k in 0..<nz { for j in 0..<ny { for i in 0..<nx {
            var mx = -Double.infinity, mn = Double.infinity
            for dk in -1...1 { for dj in -1...1 { for di in -1...1 {
                let a = i + di, b = j + dj, c = k + dk
                // scipy mode "reflect" with size 3 repeats the edge voxel: out-of-grid = ignore.
                guard a >= 0, b >= 0, c >= 0, a < nx, b < ny, c < nz else { continue }
                let v = data[a + nx * (b + ny * c)]
                mx = max(mx, v); mn = min(mn, v)
            } } }
            maxF[i + nx * (j + ny * k)] = mx; minF[i + nx * (j + ny * k)] = mn
        } } }
        let nonzero = data.filter { $0 != 0 }
        guard let hi = nonzero.max(), let lo = nonzero.min() else { return [] }
        let isConstant = abs(hi - lo) <= 1e-8 + 1e-5 * abs(lo)  // np.isclose(max, min)
        var maxima = [Bool](repeating: false, count: total)
        for g in 0..<total where data[g] == maxF[g] && data[g] != 0 {
            maxima[g] = isConstant || (maxF[g] - minF[g]) > 0
        }
        // Plateaus: 6-connected components of maxima, numbered in C order (i slowest) like scipy.
        var uf = StatsUnionFind(count: total)
        for g in 0..<total where maxima[g] {
            let i = g % nx, j = (g / nx) % ny, k = g / (nx * ny)
            if i > 0, maxima[g - 1] { uf.union(Int32(g), Int32(g - 1)) }
            if j > 0, maxima[g - nx] { uf.union(Int32(g), Int32(g - nx)) }
            if k > 0, maxima[g - nx * ny] { uf.union(Int32(g), Int32(g - nx * ny)) }
        }
        var rootOrder: [Int32: Int] = [:]
        var groups: [[Int]] = []
        for i in 0..<nx { for j in 0..<ny { for k in 0..<nz {
            let g = i + nx * (j + ny * k)
            guard maxima[g] else { continue }
            let r = uf.find(Int32(g))
            if let idx = rootOrder[r] { groups[idx].append(g) } else { rootOrder[r] = groups.count; groups.append([g]) }
        } } }
        var out: [(ijk: (Int, Int, Int), value: Double)] = []
        for members in groups {
            var w = 0.0, ci = 0.0, cj = 0.0, ck = 0.0
            for g in members {
                let v = data[g]
                w += v; ci += v * Double(g % nx); cj += v * Double((g / nx) % ny); ck += v * Double(g / (nx * ny))
            }
            var ijk = (Int((ci / w).rounded(.toNearestOrEven)), Int((cj / w).rounded(.toNearestOrEven)), Int((ck / w).rounded(.toNearestOrEven)))
            let set = Set(members)
            let inGrid = ijk.0 >= 0 && ijk.1 >= 0 && ijk.2 >= 0 && ijk.0 < nx && ijk.1 < ny && ijk.2 < nz
            if !inGrid || !set.contains(ijk.0 + nx * (ijk.1 + ny * ijk.2)) {
                // Nearest plateau voxel (first in C order on ties), as nilearn _cluster_nearest_neighbor.
                var best = Double.infinity, bestG = members[0]
                for g in members.sorted(by: { ($0 % nx, ($0 / nx) % ny, $0 / (nx * ny)) < ($1 % nx, ($1 / nx) % ny, $1 / (nx * ny)) }) {
                    let di = Double(g % nx - ijk.0), dj = Double((g / nx) % ny - ijk.1), dk = Double(g / (nx * ny) - ijk.2)
                    let d = (di * di + dj * dj + dk * dk).squareRoot()
                    if d < best { best = d; bestG = g }
                }
                ijk = (bestG % nx, (bestG / nx) % ny, bestG / (nx * ny))
            }
            out.append((ijk, data[ijk.0 + nx * (ijk.1 + ny * ijk.2)]))
        }
        return out
    }
}
