/// In-mask voxels of a 3-D grid, in x-fastest order (NIfTI order: index = x + nx·(y + ny·z)).
///
/// Voxelwise maps in the statistics kernels are arrays over the in-mask voxels in this order
/// ("mask index"), as a masker's output. Voxels outside the mask are never in a cluster.
public struct MaskGrid: Sendable {
    public let nx: Int, ny: Int, nz: Int
    /// Grid linear index of each in-mask voxel, ascending.
    public let voxelIndices: [Int]
    /// Mask index of each grid voxel, or −1 outside the mask.
    let position: [Int32]

    /// A grid with a mask given as nx·ny·nz booleans in x-fastest order.
    public init(nx: Int, ny: Int, nz: Int, mask: [Bool]) {
        precondition(mask.count == nx * ny * nz, "mask has \(mask.count) voxels, grid \(nx)x\(ny)x\(nz)")
        self.nx = nx; self.ny = ny; self.nz = nz
        var idx: [Int] = []
        var pos = [Int32](repeating: -1, count: mask.count)
        for (i, m) in mask.enumerated() where m { pos[i] = Int32(idx.count); idx.append(i) }
        voxelIndices = idx
        position = pos
    }

    /// The full grid (every voxel in the mask).
    public init(nx: Int, ny: Int, nz: Int) {
        self.init(nx: nx, ny: ny, nz: nz, mask: [Bool](repeating: true, count: nx * ny * nz))
    }

    /// Number of in-mask voxels.
    public var count: Int { voxelIndices.count }

    /// Voxel coordinates (i, j, k) of a mask index.
    public func coordinates(of maskIndex: Int) -> (x: Int, y: Int, z: Int) {
        let g = voxelIndices[maskIndex]
        return (g % nx, (g / nx) % ny, g / (nx * ny))
    }

    /// Mask index at voxel (x, y, z), nil outside the grid or the mask.
    public func maskIndex(x: Int, y: Int, z: Int) -> Int? {
        guard x >= 0, y >= 0, z >= 0, x < nx, y < ny, z < nz else { return nil }
        let p = position[x + nx * (y + ny * z)]
        return p < 0 ? nil : Int(p)
    }

    /// The in-mask neighbour lists for a connectivity. Complexity O(V · neighbours).
    public func neighborGraph(_ connectivity: VoxelConnectivity) -> NeighborGraph {
        let offs = connectivity.offsets
        var offsets = [Int32](repeating: 0, count: count + 1)
        var nbrs: [Int32] = []
        nbrs.reserveCapacity(count * offs.count / 2)
        for m in 0..<count {
            let (x, y, z) = coordinates(of: m)
            for (dx, dy, dz) in offs {
                if let q = maskIndex(x: x + dx, y: y + dy, z: z + dz) { nbrs.append(Int32(q)) }
            }
            offsets[m + 1] = Int32(nbrs.count)
        }
        return NeighborGraph(offsets: offsets, neighbors: nbrs)
    }
}
