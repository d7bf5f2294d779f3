import NIfTI

extension LoadedScan {
    /// A 3-D map on the data grid from one value per in-mask voxel (0 outside the mask), written
    /// as float32 with the data's affine and the input's coordinate-system code (qform and
    /// sform), and the statistical intent, if any.
    public func map(_ values: [Float], intent: MapIntent? = nil) -> NIfTIImage<Float> {
        precondition(values.count == voxels.count, "one value per in-mask voxel")
        var grid = [Float](repeating: 0, count: gridShape.reduce(1, *))
        for (n, v) in voxels.enumerated() { grid[v] = values[n] }
        var image = NIfTIImage(shape: gridShape, affine: affine, data: grid, code: xformCode)
        intent?.apply(to: &image.header)
        return image
    }
}

extension NIfTIWriteOptions {
    /// Float32, not fsynced: for a task's outputs, which the engine fsyncs (all together) when it
    /// publishes the task.
    static let taskOutput = NIfTIWriteOptions(sync: false)

    /// ``taskOutput`` with zlib's run-length strategy (``NIfTIWriteOptions/runLength``), for a
    /// scan's noise-like float maps: its seed maps and mean EPI (twice as fast to compress, and
    /// smaller). Group maps, which include piecewise-constant cluster maps, keep the default.
    static let scanMapOutput = NIfTIWriteOptions(runLength: true, sync: false)
}
