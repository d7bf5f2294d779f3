/// Connected clusters of a thresholded map (see `ClusterAnalysis.label`).
///
/// Positive clusters (t > thr) are numbered first, then negative ones (t < −thr), each group in
/// order of its first voxel in mask (x-fastest) order. Label 0 means "in no cluster".
public struct ClusterLabeling: Sendable, Equatable {
    /// Label per mask voxel: 0 none, k ≥ 1 cluster k.
    public var labels: [Int32]
    /// Voxel count of cluster k at index k − 1.
    public var sizes: [Int]
    /// Mass Σ(|t| − thr) of cluster k at index k − 1 (nilearn's definition).
    public var masses: [Double]
    /// +1 for a positive, −1 for a negative cluster.
    public var signs: [Int]
    /// Mask index of the voxel with the largest |t| in each cluster (first in mask order on ties).
    public var peaks: [Int]

    public init(labels: [Int32], sizes: [Int], masses: [Double], signs: [Int], peaks: [Int]) {
        self.labels = labels; self.sizes = sizes; self.masses = masses; self.signs = signs; self.peaks = peaks
    }

    /// Number of clusters.
    public var count: Int { sizes.count }
}
