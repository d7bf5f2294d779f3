import Numerics

/// Redefines a group-level cluster without each held-out subject, so that the subject's value in
/// the region is not selected by its own data (the circularity of "double dipping", Kriegeskorte
/// et al. 2009; leave-one-subject-out ROIs as in Esterman et al. 2010).
///
/// For held-out subject i, the group model is refitted on the other subjects, its contrast t map
/// thresholded at the same cluster-forming p (with the fold's df) and labelled with the same
/// connectivity. The fold's region is its cluster of the original's sign and the original's rank
/// by mass among clusters of that sign (the most massive positive cluster stays the most massive
/// positive cluster); a fold with fewer clusters gives none (the subject has no value there).
/// The original cluster's voxels and location are not used: choosing the fold cluster by overlap
/// with the original leaks the held-out subject's data back in (a test shows the AUC inflation).
struct LeaveOneOutROI {
    /// subjects × mask voxels: the maps the region was defined on.
    var y: Matrix
    var grid: MaskGrid
    var clusterP: Double
    var twoSided: Bool
    var connectivity: VoxelConnectivity
    /// The design and contrast without subject `i` (rows of `y` other than i, in order).
    var design: (_ heldOut: Int) throws -> (matrix: Matrix, contrast: [Double])

    /// The fold region (mask indices) of held-out subject `i`: its `rank`-th (0-based) most
    /// massive cluster of `sign`, or nil when there are not that many.
    func region(heldOut i: Int, sign: Int, rank: Int) throws -> [Int]? {
        let rest = (0..<y.rows).filter { $0 != i }
        let (matrix, contrast) = try design(i)
        let t = try GLMFit(design: matrix, data: y.selectingRows(rest)).tContrast(contrast)
        let threshold = try ClusterAnalysis.tThreshold(p: clusterP, df: Double(t.df), twoSided: twoSided)
        let labeling = ClusterAnalysis.label(map: t.t, graph: grid.neighborGraph(connectivity), threshold: threshold, twoSided: twoSided)
        let ranked = (0..<labeling.count).filter { labeling.signs[$0] == sign }
            .sorted { labeling.masses[$0] > labeling.masses[$1] || (labeling.masses[$0] == labeling.masses[$1] && $0 < $1) }
        guard rank < ranked.count else { return nil }
        return (0..<grid.count).filter { labeling.labels[$0] == Int32(ranked[rank] + 1) }
    }
}
