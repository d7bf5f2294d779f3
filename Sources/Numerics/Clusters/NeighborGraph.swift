/// Adjacency of in-mask voxels. Symmetric. Built by `MaskGrid.neighborGraph`.
///
/// Two layouts of the same lists: CSR (`offsets`, `neighbors`: the neighbours of mask index m are
/// `neighbors[offsets[m]..<offsets[m+1]]`) and a padded table (`table[m·maxDegree + j]`, −1 for
/// absent neighbours) that the TFCE sweep uses because one row is one cache line and needs no
/// dependent offset load.
public struct NeighborGraph: Sendable {
    public let offsets: [Int32]
    public let neighbors: [Int32]
    /// Largest neighbour count (6, 18 or 26 for a full interior).
    public let maxDegree: Int
    /// count x maxDegree neighbour table, −1 padded.
    public let table: [Int32]

    public init(offsets: [Int32], neighbors: [Int32]) {
        self.offsets = offsets
        self.neighbors = neighbors
        let count = offsets.count - 1
        var degree = 0
        for m in 0..<count { degree = max(degree, Int(offsets[m + 1] - offsets[m])) }
        var t = [Int32](repeating: -1, count: count * degree)
        for m in 0..<count {
            for (j, e) in (Int(offsets[m])..<Int(offsets[m + 1])).enumerated() { t[m * degree + j] = neighbors[e] }
        }
        maxDegree = degree
        table = t
    }

    /// Number of vertices (in-mask voxels).
    public var count: Int { offsets.count - 1 }
}
