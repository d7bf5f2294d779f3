/// Summary statistics of an image's voxel values after scaling, computed in one streaming pass.
public struct NIfTIStatistics: Sendable, Equatable {
    /// Voxels counted.
    public var count: Int = 0
    /// Smallest and largest finite value (nil if there is none).
    public var min: Double?
    public var max: Double?
    /// Mean of the finite values.
    public var mean: Double?
    /// NaN and ±infinity counts.
    public var nanCount: Int = 0
    public var infinityCount: Int = 0
}

extension NIfTIFile {
    /// Streams a file's voxels once (no full-size array) and summarises them.
    public static func statistics(_ path: String) throws -> NIfTIStatistics {
        let opened = try open(path)
        let header = opened.info.header
        let datatype = header.datatype!
        let (voxels, _) = try header.dataSize(path: path)
        let swap = opened.info.byteOrder != .host && datatype.bytesPerVoxel > 1
        let scaling = header.scaling
        var stats = NIfTIStatistics(count: voxels)
        var lo = Double.infinity, hi = -Double.infinity, sum = 0.0, finite = 0
        let scratch = UnsafeMutablePointer<Double>.allocate(capacity: chunkBytes)
        defer { scratch.deallocate() }
        try streamVoxels(opened, voxels: voxels) { chunk, _, count in
            VoxelConversion.decode(chunk, count: count, datatype: datatype, swap: swap, scaling: scaling, into: scratch)
            for i in 0..<count {
                let v = scratch[i]
                if v.isNaN { stats.nanCount += 1; continue }
                if v.isInfinite { stats.infinityCount += 1; continue }
                lo = Swift.min(lo, v)
                hi = Swift.max(hi, v)
                sum += v
                finite += 1
            }
        }
        if finite > 0 {
            stats.min = lo
            stats.max = hi
            stats.mean = sum / Double(finite)
        }
        return stats
    }
}
