import CKernels
import Foundation

/// Reusable buffers and the sweep of exact TFCE (`TFCE.exact`, `TFCE.exactMaximum`).
///
/// One workspace per thread (not thread-safe); reusing it across maps avoids allocating and
/// page-faulting ~40 bytes per voxel for every map of a permutation null.
///
/// The sweep works in *rank space*: the m voxels with u > 0 (u = |t| two-sided, t one-sided) are
/// sorted by u descending and every per-voxel array of the sweep is indexed by rank r, so
/// activation is a sequential walk over the arrays. Steps:
/// 1. Sort. Key = the Float32 rounding of u (monotone: u₁ < u₂ ⇒ Float(u₁) ≤ Float(u₂)) with a
///    top bit set for positive voxels, sorted descending by a stable LSD radix sort on 8-byte
///    records (key, voxel index | sign bit) in three 11-bit passes (2048 buckets, so the scatter
///    stays in cache; a pass whose digit is constant is skipped). It is C (`pipe_tfce_sort`):
///    the keys are built branch-free and the top digit, which takes a few dozen buckets for a whole
///    map, is counted in four interleaved histograms so that runs of one bucket do not wait on
///    each other's increments (8 % less time per null map than the same sort in Swift, which also
///    checked every increment for overflow). The exact Float64 values are
///    then gathered and the rare runs of equal Float32 keys re-sorted by the exact value, so the
///    order is exactly that of u. When every u is a Float32 value (the maps of a Float32
///    permutation null), the keys are the values: the heights are decoded from the sorted keys in
///    order, with no gather and no re-sort.
/// 2. Neighbours in rank space: a voxel-order pass over the neighbour table (streamed; rankOf
///    read near the diagonal) writes, for each rank, the ranks of its *earlier* neighbours of the
///    same sign (−1 terminated). It is C (`pipe_tfce_rank_neighbors`): branch-free (which
///    neighbours qualify is a coin toss in a noise map; branches cost 20 % of the whole TFCE), and
///    the randomly placed row of the voxel 16 on is prefetched for writing. A neighbour is active
///    when a voxel is activated iff its rank is smaller, so no activity flags are needed. Positive
///    and negative parts (two-sided) share one sort and one sweep but never connect: the sign bit
///    of the key makes each sign one block of ranks, so each part's union–find touches only its
///    own half of the arrays (4 % less time than the two signs' ranks interleaved). (Gathering
///    table rows in rank order instead, or fusing the gather into the sweep, measured 2–3x
///    slower: random 24-byte row reads. The sweep itself in C, with the neighbours' parents
///    prefetched, or with the union–find fields packed in one record per rank, measured no
///    faster: its misses are chained.)
/// 3. Sweep ranks in order. Two forests over ranks: a union–find (union by size, path halving)
///    for "which component", and the merge tree for the integrals. The activated voxel r is the
///    merge node: every distinct neighbour component is sealed — the integral of its tree top
///    flushed down to h, acc += e^E (F(since) − F(h)), F(h) = h^{H+1}/(H+1) — and hung under r
///    in the merge tree; r starts with acc = 0 and collects the merged component's integral below
///    h. TFCE(v) = Σ acc along v's merge-tree path: non-negative terms only, no subtraction.
/// 4. Totals: a merge-tree parent is activated later (treeParent[r] > r), so TFCE(r) = acc[r] +
///    TFCE(treeParent[r]) in one descending pass (no find calls).
/// The permutation null needs only each map's maximum (`maximum`): that sweep keeps no merge
/// tree, only each component's best integral so far (see `maximumSweep`); 8 % less time per
/// permutation. Its two per-root Double fields live in the sort's two record buffers (as bit
/// patterns), which are free once the ranks, heights and neighbour rows are built: 3.7 MB less
/// working set per thread at 229k voxels, for two threads sharing one L3 cache.
/// Same mathematics as the previous voxel-indexed implementation (kept as a test reference),
/// which stored union–find offsets acc[child] −= acc[root]: there a small voxel in a large
/// component lost digits to cancellation (absolute error ~1e-16 × the component's integral);
/// here every voxel keeps ~1e-15 relative accuracy. The two agree to 1e-12 of the map maximum
/// everywhere and to 1e-9 relative wherever the old one's cancellation allows (|TFCE| ≥ 1e-6 of
/// the maximum). Merging under the activated voxel in the union–find itself (one forest) was
/// measured 3.5x slower: the tree degenerates into long chains.
/// Also measured, for the maximum sweep, and not kept: a root's size stored as −size in its parent
/// entry (12 % slower), one 32-byte record per rank or a 16-byte record per root (5–10 % slower: the
/// compact 4-byte parent array is what stays in cache), a branch-free merge that also "merges" a
/// neighbour already in the component (15 % slower), prefetching parents or the rankOf scatter,
/// transparent huge pages, 8-bit radix digits, and 32-byte neighbour rows (no faster). Measured on
/// the permutation null (2 threads) and not kept either: the positive and negative sweeps stepped
/// in turn, so that one's misses overlap the other's (15 % slower), a table of s^E instead of the
/// square root (no faster), and the ranks and heights written by the radix sort's last pass
/// instead of two passes after it (6 % slower: the random rank writes disturb the scatter).
public final class TFCEWorkspace: @unchecked Sendable {
    private var voxelCapacity = 0
    private var rankCapacity = 0
    private var degreeCapacity = 0
    /// Ranks below `split` are positive voxels, the rest negative (two-sided): the two signs never
    /// connect, so each sign's sweep works in its own half of the rank space.
    private var split = 0
    private var rankOf = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    private var records = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
    private var scratch = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
    private var height = UnsafeMutablePointer<Double>.allocate(capacity: 1)
    private var neighbors = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    private var parent = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    private var size = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    private var top = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    private var treeParent = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    private var acc = UnsafeMutablePointer<Double>.allocate(capacity: 1)
    private var since = UnsafeMutablePointer<Double>.allocate(capacity: 1)
    private var histogram = UnsafeMutablePointer<Int>.allocate(capacity: 7 * 2048)

    public init() {}

    deinit {
        for p in [rankOf, neighbors, parent, size, top, treeParent] as [UnsafeMutablePointer<Int32>] { p.deallocate() }
        records.deallocate(); scratch.deallocate(); height.deallocate(); acc.deallocate(); since.deallocate()
        histogram.deallocate()
    }

    private func reserve(voxels v: Int, degree: Int) {
        if v > voxelCapacity {
            rankOf.deallocate(); rankOf = .allocate(capacity: v)
            voxelCapacity = v
        }
        if v > rankCapacity || degree > degreeCapacity {
            records.deallocate(); records = .allocate(capacity: v)
            scratch.deallocate(); scratch = .allocate(capacity: v)
            height.deallocate(); height = .allocate(capacity: v)
            parent.deallocate(); parent = .allocate(capacity: v)
            size.deallocate(); size = .allocate(capacity: v)
            top.deallocate(); top = .allocate(capacity: v)
            treeParent.deallocate(); treeParent = .allocate(capacity: v)
            acc.deallocate(); acc = .allocate(capacity: v)
            since.deallocate(); since = .allocate(capacity: v)
            neighbors.deallocate(); neighbors = .allocate(capacity: v * max(degree, 1))
            rankCapacity = v; degreeCapacity = degree
        }
    }

    /// Runs steps 1–4; afterwards `acc[0..<m]` holds TFCE per rank and `records` the voxels.
    /// - Returns: m, the number of voxels with u > 0.
    func sweep(map: UnsafeBufferPointer<Double>, graph: NeighborGraph, twoSided: Bool, E: Double, H: Double) -> Int {
        let m = prepare(map: map, graph: graph, twoSided: twoSided)
        if m == 0 { return 0 }
        if E == 0.5 && H == 2 {
            unionSweep(m: m, degree: graph.maxDegree, F: { h in h * h * h * (1.0 / 3.0) }, ext: { s in Double(s).squareRoot() })
        } else {
            unionSweep(m: m, degree: graph.maxDegree, F: { h in Foundation.pow(h, H + 1) / (H + 1) }, ext: { s in Foundation.pow(Double(s), E) })
        }
        return m
    }

    /// The largest TFCE magnitude of the map (steps 1–2, then the maximum sweep); 0 for an empty map.
    func maximum(map: UnsafeBufferPointer<Double>, graph: NeighborGraph, twoSided: Bool, E: Double, H: Double) -> Double {
        let m = prepare(map: map, graph: graph, twoSided: twoSided)
        if m == 0 { return 0 }
        if E == 0.5 && H == 2 {
            return maximumSweep(m: m, degree: graph.maxDegree, F: { h in h * h * h * (1.0 / 3.0) }, ext: { s in Double(s).squareRoot() })
        }
        return maximumSweep(m: m, degree: graph.maxDegree, F: { h in Foundation.pow(h, H + 1) / (H + 1) }, ext: { s in Foundation.pow(Double(s), E) })
    }

    /// Steps 1–2: the rank order, heights and rank-space neighbour rows. Returns m.
    private func prepare(map: UnsafeBufferPointer<Double>, graph: NeighborGraph, twoSided: Bool) -> Int {
        let v = graph.count
        precondition(map.count == v, "map has \(map.count) values for \(v) mask voxels")
        let degree = graph.maxDegree
        reserve(voxels: v, degree: degree)
        let m = sortDescending(map: map, twoSided: twoSided)
        if m == 0 { return 0 }
        graph.table.withUnsafeBufferPointer { buildNeighbors(table: $0.baseAddress!, voxels: v, degree: degree, m: m) }
        return m
    }

    /// Writes the signed TFCE of every voxel (0 where u ≤ 0).
    func scatter(m: Int, into out: UnsafeMutableBufferPointer<Double>) {
        for i in 0..<out.count { out[i] = 0 }
        for r in 0..<m {
            let rec = records[r]
            let idx = Int(rec & 0x7FFF_FFFF)
            out[idx] = rec & 0x8000_0000 != 0 ? -acc[r] : acc[r]
        }
    }

    // MARK: step 1

    private func sortDescending(map: UnsafeBufferPointer<Double>, twoSided: Bool) -> Int {
        var positives = 0
        var floatExact: Int32 = 0, inScratch: Int32 = 0
        let m = pipe_tfce_sort(map.baseAddress, map.count, twoSided ? 1 : 0, records, scratch, histogram,
                               &positives, &floatExact, &inScratch)
        split = positives
        if inScratch != 0 { swap(&records, &scratch) }  // the two have the same capacity
        if floatExact != 0 {
            // Every value is a Float32 (a null map of the Float32 product): the key is the value,
            // and equal keys are equal values, so the order is already exact.
            for r in 0..<m { height[r] = Double(Float(bitPattern: UInt32(truncatingIfNeeded: records[r] >> 32) & 0x7FFF_FFFF)) }
            return m
        }
        // Exact values; re-sort runs of equal Float32 keys by the Float64 value (descending).
        for r in 0..<m {
            let t = map[Int(records[r] & 0x7FFF_FFFF)]
            height[r] = abs(t)
        }
        var r = 1
        while r < m {
            if records[r] >> 32 != records[r - 1] >> 32 { r += 1; continue }
            let start = r - 1
            var end = r + 1
            while end < m && records[end] >> 32 == records[start] >> 32 { end += 1 }
            sortRun(start, end)
            r = end
        }
        return m
    }

    /// Sorts ranks start..<end by height descending (insertion sort; the run is nearly always 2–3 long).
    private func sortRun(_ start: Int, _ end: Int) {
        if end - start > 32 {
            let pairs = (start..<end).map { (height[$0], records[$0]) }.sorted { $0.0 > $1.0 }
            for (k, p) in pairs.enumerated() { height[start + k] = p.0; records[start + k] = p.1 }
            return
        }
        for j in (start + 1)..<end {
            let h = height[j], rec = records[j]
            var k = j
            while k > start && height[k - 1] < h { height[k] = height[k - 1]; records[k] = records[k - 1]; k -= 1 }
            height[k] = h; records[k] = rec
        }
    }

    // MARK: step 2

    private func buildNeighbors(table: UnsafePointer<Int32>, voxels v: Int, degree: Int, m: Int) {
        // rankOf: the rank, Int32.max when excluded.
        rankOf.update(repeating: Int32.max, count: v)
        for r in 0..<m {
            let rec = records[r]
            rankOf[Int(rec & 0x7FFF_FFFF)] = Int32(r)
        }
        pipe_tfce_rank_neighbors(table, rankOf, v, Int32(degree), Int32(split), neighbors)
    }

    // MARK: steps 3–4

    /// The union–find root of x, halving the path on the way.
    @inline(__always)
    private static func find(_ x0: Int32, _ parent: UnsafeMutablePointer<Int32>) -> Int32 {
        var x = x0
        while true {
            let p = parent[Int(x)]
            if p == x { return x }
            let g = parent[Int(p)]
            parent[Int(x)] = g
            x = g
        }
    }

    /// Joins the components of roots a and b by size (the smaller under the larger; b under a on a
    /// tie) and returns the merged root.
    @inline(__always)
    private static func union(_ a: Int, _ b: Int, _ parent: UnsafeMutablePointer<Int32>, _ size: UnsafeMutablePointer<Int32>) -> Int {
        if size[a] < size[b] {
            parent[a] = Int32(b); size[b] += size[a]; return b
        }
        parent[b] = Int32(a); size[a] += size[b]; return a
    }

    @inline(__always)
    private func unionSweep(m: Int, degree: Int, F: (Double) -> Double, ext: (Int32) -> Double) {
        let parent = self.parent, size = self.size, top = self.top, treeParent = self.treeParent
        let acc = self.acc, since = self.since, height = self.height
        for r in 0..<m {
            let h = height[r]
            let r32 = Int32(r)
            parent[r] = r32; size[r] = 1; top[r] = r32
            treeParent[r] = r32; acc[r] = 0; since[r] = h
            var root = r
            var fh = 0.0, haveFH = false
            let row = neighbors + r * degree
            for k in 0..<degree {
                let q = row[k]
                if q < 0 { break }
                let other = Int(TFCEWorkspace.find(q, parent))
                if other == root { continue }
                // Seal the neighbour component's merge-tree top down to h and hang it under r.
                let t = Int(top[other])
                if since[t] != h {
                    if !haveFH { fh = F(h); haveFH = true }
                    acc[t] += ext(size[other]) * (F(since[t]) - fh)
                    since[t] = h
                }
                treeParent[t] = r32
                // The merged component's tree top is r.
                root = TFCEWorkspace.union(root, other, parent, size)
                top[root] = r32
            }
        }
        for r in 0..<m where parent[r] == Int32(r) {
            let t = Int(top[r])
            acc[t] += ext(size[r]) * F(since[t])
        }
        for r in stride(from: m - 1, through: 0, by: -1) {
            let p = Int(treeParent[r])
            if p != r { acc[r] += acc[p] }
        }
    }

    /// The maximum of TFCE without the map (the permutation null's statistic). The merge tree is
    /// not built: each union–find root carries its component's best leaf-to-here integral `best`
    /// (the largest integral from any voxel of the component down to the component's `since`).
    /// A voxel's TFCE is largest at a local maximum, and two components' voxels share everything
    /// below their merge, so at a merge at height h each component is flushed to h
    /// (best += e^E (F(since) − F(h))) and the merged best is the larger one; the activated voxel
    /// itself adds 0 at h. At the end each root is flushed to 0. The same terms as the map's
    /// path sums, added from the leaf down instead of from the root up, so the maximum agrees
    /// with the map's to rounding (~1e-15 relative; the tie tolerance is 1e-10).
    @inline(__always)
    private func maximumSweep(m: Int, degree: Int, F: (Double) -> Double, ext: (Int32) -> Double) -> Double {
        let parent = self.parent, size = self.size, height = self.height
        // The records are no longer needed: their buffers hold since and best (Double bit patterns).
        let sinceBits = self.records, bestBits = self.scratch
        for r in 0..<m {
            let h = height[r]
            let r32 = Int32(r)
            parent[r] = r32; size[r] = 1; sinceBits[r] = h.bitPattern; bestBits[r] = 0
            var root = r
            var fh = 0.0, haveFH = false
            let row = neighbors + r * degree
            for k in 0..<degree {
                let q = row[k]
                if q < 0 { break }
                let other = Int(TFCEWorkspace.find(q, parent))
                if other == root { continue }
                // r's component is already at h (since == h); flush the neighbour's to h.
                var b = Double(bitPattern: bestBits[other])
                let s = Double(bitPattern: sinceBits[other])
                if s != h {
                    if !haveFH { fh = F(h); haveFH = true }
                    b += ext(size[other]) * (F(s) - fh)
                }
                let merged = max(Double(bitPattern: bestBits[root]), b)
                root = TFCEWorkspace.union(root, other, parent, size)
                sinceBits[root] = h.bitPattern; bestBits[root] = merged.bitPattern
            }
        }
        var result = 0.0
        for r in 0..<m where parent[r] == Int32(r) {
            result = max(result, Double(bitPattern: bestBits[r]) + ext(size[r]) * F(Double(bitPattern: sinceBits[r])))
        }
        return result
    }

}
