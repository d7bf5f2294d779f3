/// One row of a cluster table (see `ClusterTable.make`).
public struct ClusterTableRow: Sendable, Equatable {
    /// "1", "1a", "1b", … as nilearn's "Cluster ID".
    public var id: String
    /// Peak coordinates in mm (affine applied to the voxel indices).
    public var x: Double, y: Double, z: Double
    /// The statistic at the peak (negative for negative clusters).
    public var peakStat: Double
    /// nilearn's "Cluster Size (mm3)": Int(voxels · voxel volume); nil on sub-peak rows.
    public var clusterSizeMM3: Int?
    /// Cluster size in voxels; nil on sub-peak rows.
    public var clusterSizeVoxels: Int?
    /// |stat|-weighted centre of mass of the cluster in mm; nil on sub-peak rows (not in nilearn).
    public var centerOfMass: (x: Double, y: Double, z: Double)?

    public init(id: String, x: Double, y: Double, z: Double, peakStat: Double, clusterSizeMM3: Int?, clusterSizeVoxels: Int?, centerOfMass: (x: Double, y: Double, z: Double)?) {
        self.id = id; self.x = x; self.y = y; self.z = z; self.peakStat = peakStat
        self.clusterSizeMM3 = clusterSizeMM3; self.clusterSizeVoxels = clusterSizeVoxels; self.centerOfMass = centerOfMass
    }

    public static func == (a: ClusterTableRow, b: ClusterTableRow) -> Bool {
        a.id == b.id && a.x == b.x && a.y == b.y && a.z == b.z && a.peakStat == b.peakStat
            && a.clusterSizeMM3 == b.clusterSizeMM3 && a.clusterSizeVoxels == b.clusterSizeVoxels
            && a.centerOfMass?.x == b.centerOfMass?.x && a.centerOfMass?.y == b.centerOfMass?.y && a.centerOfMass?.z == b.centerOfMass?.z
    }
}
