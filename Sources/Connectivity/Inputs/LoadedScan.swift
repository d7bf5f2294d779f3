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
    /// The input's coordinate-system code (its sform code, else its qform code; 2, "aligned",
    /// when it has neither), which every map written on this grid carries: 1 scanner, 2 aligned,
    /// 3 Talairach, 4 MNI152.
    public var xformCode: Int32 = 2

    /// The code to write: the header's sform code, else its qform code, else 2.
    public static func xformCode(of header: NIfTIHeader) -> Int32 {
        header.sformCode > 0 ? header.sformCode : header.qformCode > 0 ? header.qformCode : 2
    }
}
