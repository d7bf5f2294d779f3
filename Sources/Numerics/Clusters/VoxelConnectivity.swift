/// Which neighbours of a voxel are connected (scipy `generate_binary_structure(3, k)`).
public enum VoxelConnectivity: Int, Sendable, CaseIterable, Codable {
    /// 6 face neighbours (structure rank 1) — nilearn's choice for clusters and TFCE.
    case faces = 6
    /// 18 face + edge neighbours (structure rank 2).
    case edges = 18
    /// 26 face + edge + corner neighbours (structure rank 3) — FSL randomise clusters.
    case vertices = 26

    /// Offsets (dx, dy, dz) of the neighbours.
    public var offsets: [(Int, Int, Int)] {
        var out: [(Int, Int, Int)] = []
        for dz in -1...1 { for dy in -1...1 { for dx in -1...1 {
            let m = abs(dx) + abs(dy) + abs(dz)
            if m == 0 { continue }
            switch self {
            case .faces: if m == 1 { out.append((dx, dy, dz)) }
            case .edges: if m <= 2 { out.append((dx, dy, dz)) }
            case .vertices: out.append((dx, dy, dz))
            }
        } } }
        return out
    }
}
