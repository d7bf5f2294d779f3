/// An axis-aligned box of voxels on a 3-D grid: half-open index ranges along x, y and z.
public struct VoxelBox: Sendable, Equatable {
    public var x: Range<Int>
    public var y: Range<Int>
    public var z: Range<Int>

    public init(x: Range<Int>, y: Range<Int>, z: Range<Int>) {
        self.x = x
        self.y = y
        self.z = z
    }

    /// The whole grid of `shape` ([nx, ny, nz]).
    public static func full(_ shape: [Int]) -> VoxelBox {
        VoxelBox(x: 0..<shape[0], y: 0..<shape[1], z: 0..<shape[2])
    }

    /// The smallest box holding the linear grid indices `voxels` (x fastest) of a grid of `shape`;
    /// `nil` when `voxels` is empty.
    public static func bounding(_ voxels: [Int], shape: [Int]) -> VoxelBox? {
        guard !voxels.isEmpty else { return nil }
        let nx = shape[0], ny = shape[1]
        var x0 = Int.max, y0 = Int.max, z0 = Int.max, x1 = Int.min, y1 = Int.min, z1 = Int.min
        for v in voxels {
            let x = v % nx, y = (v / nx) % ny, z = v / (nx * ny)
            x0 = min(x0, x); x1 = max(x1, x)
            y0 = min(y0, y); y1 = max(y1, y)
            z0 = min(z0, z); z1 = max(z1, z)
        }
        return VoxelBox(x: x0..<(x1 + 1), y: y0..<(y1 + 1), z: z0..<(z1 + 1))
    }
}
