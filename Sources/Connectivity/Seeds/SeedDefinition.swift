import NIfTI

/// A seed region: an atlas label (by name or value), an MNI sphere, or a binary mask file.
public struct SeedDefinition: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        /// A label of the study's atlas.
        case atlasLabel(String)
        /// An MNI sphere: centre (mm) and radius (mm), nilearn NiftiSpheresMasker's rule.
        case sphere(centre: [Double], radius: Double)
        /// A binary mask image (any grid; resampled by nearest neighbour).
        case maskFile(String)
    }

    /// The name used in output files (`seed-<name>`): letters and digits.
    public var name: String
    public var source: Source

    public init(name: String, source: Source) {
        self.name = name
        self.source = source
    }

    /// The seed's voxels as positions in `scan.voxels` (the in-mask voxel list), ascending.
    ///
    /// - Throws: `InputError` naming the seed and the scan when the seed is empty in the data grid
    ///   or lies entirely outside the scan's mask.
    /// - Parameter gridVoxelCount: receives the number of the seed's voxels on the data grid,
    ///   in the mask or not (the positions returned are those in it: their ratio is the seed's
    ///   coverage by the run's mask).
    public func voxelPositions(in scan: LoadedScan, atlas: AtlasLabels?, scanName: String, gridVoxelCount: UnsafeMutablePointer<Int>? = nil) throws -> [Int] {
        let grid = scan.gridShape
        var gridVoxels: [Int]
        switch source {
        case .atlasLabel(let label):
            guard let atlas else {
                throw InputError(path: scanName, field: "seed \(name)", "uses atlas label '\(label)' but the stage has no atlas")
            }
            let value = try atlas.value(of: label)
            let resampled = atlas.resampled(to: grid, affine: scan.affine)
            gridVoxels = resampled.indices.filter { resampled[$0] == value }
        case .sphere(let centre, let radius):
            gridVoxels = SeedGeometry.sphere(centre: centre, radius: radius, shape: grid, affine: scan.affine)
        case .maskFile(let path):
            let mask = try NIfTIFile.read(path, as: Float.self)
            let resampled = SeedGeometry.resampleNearest(mask.data, shape: Array(mask.shape.prefix(3)), affine: mask.affine,
                                                         to: grid, affine: scan.affine)
            gridVoxels = resampled.indices.filter { resampled[$0] > 0 }
        }
        gridVoxelCount?.pointee = gridVoxels.count
        if gridVoxels.isEmpty {
            throw InputError(path: scanName, field: "seed \(name)", "is empty on the data grid (\(describe)); check its location and size")
        }
        // scan.voxels is ascending: binary search, no per-seed index of the whole mask.
        let inside = gridVoxels.compactMap { v -> Int? in
            var lo = 0, hi = scan.voxels.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if scan.voxels[mid] < v { lo = mid + 1 } else { hi = mid }
            }
            return lo < scan.voxels.count && scan.voxels[lo] == v ? lo : nil
        }
        if inside.isEmpty {
            throw InputError(path: scanName, field: "seed \(name)",
                             "has \(gridVoxels.count) voxels but none inside the scan's brain mask (\(describe))")
        }
        return inside.sorted()
    }

    var describe: String {
        switch source {
        case .atlasLabel(let l): "atlas label \(l)"
        case .sphere(let c, let r): "sphere at (\(c.map { formatted($0) }.joined(separator: ", "))) radius \(formatted(r)) mm"
        case .maskFile(let p): "mask \(p)"
        }
    }

    private func formatted(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v) }
}
