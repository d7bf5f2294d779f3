import NIfTI

extension LoadedScan {
    /// A 3-D map on the data grid from one value per in-mask voxel (0 outside the mask), written
    /// as float32 with the data's affine (qform and sform, code 4 = MNI152 when the input said so).
    public func map(_ values: [Float]) -> NIfTIImage<Float> {
        precondition(values.count == voxels.count, "one value per in-mask voxel")
        var grid = [Float](repeating: 0, count: gridShape.reduce(1, *))
        for (n, v) in voxels.enumerated() { grid[v] = values[n] }
        return NIfTIImage(shape: gridShape, affine: affine, data: grid)
    }
}
