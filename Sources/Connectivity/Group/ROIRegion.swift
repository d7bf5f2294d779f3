/// A follow-up region of the `roi` stage kind: fixed voxels, or per-subject leave-one-out voxels
/// for the subjects a group cluster was defined on.
struct ROIRegion {
    var name: String
    var source: String
    /// Grid indices (nil: none, e.g. a fold without the cluster).
    var voxels: [Int]?
    /// Leave-one-out regions of the subjects the cluster was defined on.
    var perSubject: [String: [Int]?] = [:]
    var note: String
}

/// Each subject's values in a region, in subject order (nil: no value).
struct ROIRegionValues {
    var region: ROIRegion
    var pre: [Double?]
    var post: [Double?]
    /// Values in the original (fixed) region, for the circular comparison.
    var inSamplePre: [Double?]
}
