import NIfTI

/// The voxel grid of a synthetic cohort: MNI152-like, 4 mm for the demo, 2 mm (91x109x91) for
/// benchmarks, with a brain-shaped mask (an ellipsoid fitted to the MNI brain's extent).
public struct SynthGrid: Sendable {
    public enum Scale: String, Sendable, CaseIterable {
        /// 4 mm, 46x55x46, 120 volumes: the README demo and the end-to-end tests.
        case demo
        /// 2 mm, 91x109x91, 240 volumes: benchmarks.
        case full
    }

    public let scale: Scale
    public let shape: [Int]
    public let affine: Affine
    public let volumes: Int
    /// Repetition time in seconds.
    public let repetitionTime: Double
    /// Brain mask, x fastest.
    public let mask: [Bool]

    public init(scale: Scale) {
        self.scale = scale
        let mm: Double = scale == .demo ? 4 : 2
        shape = scale == .demo ? [46, 55, 46] : [91, 109, 91]
        affine = Affine(rows: [[-mm, 0, 0, 90], [0, mm, 0, -126], [0, 0, mm, -72]])
        volumes = scale == .demo ? 120 : 240
        repetitionTime = 2
        var mask = [Bool](repeating: false, count: shape[0] * shape[1] * shape[2])
        for k in 0..<shape[2] {
            for j in 0..<shape[1] {
                for i in 0..<shape[0] {
                    let p = affine.apply([Double(i), Double(j), Double(k)])
                    let x = p[0] / 68, y = (p[1] + 18) / 88, z = (p[2] - 12) / 68
                    // Flatten the inferior part a little, like the temporal lobes and cerebellum.
                    let zz = z < 0 ? z * 1.15 : z
                    mask[i + shape[0] * (j + shape[1] * k)] = x * x + y * y + zz * zz <= 1
                }
            }
        }
        self.mask = mask
    }

    /// Voxels per volume.
    public var voxelCount: Int { shape[0] * shape[1] * shape[2] }

    /// World (MNI mm) coordinates of voxel index `v`.
    public func world(_ v: Int) -> [Double] {
        let i = v % shape[0], j = (v / shape[0]) % shape[1], k = v / (shape[0] * shape[1])
        return affine.apply([Double(i), Double(j), Double(k)])
    }
}
