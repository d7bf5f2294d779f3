import NIfTI

/// One run, loaded and masked: the BOLD series of the in-mask voxels as a float32 matrix.
///
/// Data convention: `series` is samples x features, row-major: row t holds volume t's in-mask
/// voxels in `voxels` order (ascending linear grid index), so each volume is contiguous.
public struct LoadedScan: Sendable {
    /// The 3-D grid of the data.
    public var gridShape: [Int]
    public var affine: Affine
    /// Repetition time in seconds.
    public var repetitionTime: Double
    /// Volumes after dropping dummy scans.
    public var volumes: Int
    /// Linear grid indices (x fastest) of the in-mask voxels.
    public var voxels: [Int]
    /// volumes x voxels.count values, row-major.
    public var series: SeriesBuffer
    /// Confounds with the dummy-scan rows dropped, when a confounds file was given.
    public var confounds: ConfoundsTable?
    /// Voxel series that held NaN or infinity and were set to 0 (nilearn's ensure_finite).
    public var nonFiniteVoxels: Int
}
