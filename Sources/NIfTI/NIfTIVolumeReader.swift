/// Reads the voxels of a 4-D image one 3-D volume at a time, in file order, so that a run can be
/// processed while it is still being decompressed and is never held whole.
///
/// Same decoding as `NIfTIFile.read` (datatype conversion, byte order, scaling). One thread calls
/// `read(into:)` or `readRaw(into:)` for volume after volume; `decode` may run on any thread. After the last volume the rest of the
/// stream is verified (for gzip, every member's CRC-32 and length, and trailing garbage).
public final class NIfTIVolumeReader<Scalar: NIfTIScalar>: @unchecked Sendable {
    public let info: NIfTIFileInfo
    /// Voxels per volume: the product of the first three dimensions.
    public let voxelsPerVolume: Int
    /// Volumes in the file: the product of the dimensions after the third.
    public let volumeCount: Int
    /// Volumes read so far.
    public private(set) var volumesRead = 0

    private let opened: NIfTIFile.Opened
    private let raw: UnsafeMutableRawBufferPointer
    private let datatype: NIfTIDatatype
    private let swap: Bool
    private let scaling: (slope: Double, intercept: Double)?

    /// Opens `path` and positions it at the first voxel (header checks as `NIfTIFile.read`).
    public init(path: String) throws {
        opened = try NIfTIFile.open(path)
        info = opened.info
        datatype = info.header.datatype!
        let (voxels, _) = try info.header.dataSize(path: path)
        let shape = info.header.shape
        voxelsPerVolume = (0..<3).map { $0 < shape.count ? shape[$0] : 1 }.reduce(1, *)
        volumeCount = voxelsPerVolume == 0 ? 0 : voxels / voxelsPerVolume
        swap = info.byteOrder != .host && datatype.bytesPerVoxel > 1
        scaling = info.header.scaling
        raw = .allocate(byteCount: max(1, voxelsPerVolume * datatype.bytesPerVoxel), alignment: 64)
    }

    deinit { raw.deallocate() }

    /// Bytes of one volume as stored.
    public var bytesPerVolume: Int { voxelsPerVolume * datatype.bytesPerVoxel }

    /// Whether every decoded value is finite whatever the stored bytes: an integer datatype whose
    /// scaled range lies well inside `Scalar`'s (the usual int16 BOLD), so a reader need not look
    /// for NaN or infinity.
    public var decodesOnlyFiniteValues: Bool {
        guard let range = datatype.integerRange else { return false }
        let (slope, intercept) = scaling ?? (1, 0)
        let largest = max(abs(range.lowerBound), abs(range.upperBound)) * abs(slope) + abs(intercept)
        return largest < Double(Scalar.greatestFiniteMagnitude) / 2
    }

    /// Decodes the next volume into `buffer` (`voxelsPerVolume` values).
    /// - Throws: as `readRaw(into:)`.
    public func read(into buffer: UnsafeMutablePointer<Scalar>) throws {
        try readRaw(into: raw.baseAddress!)
        decode(UnsafeRawPointer(raw.baseAddress!), into: buffer)
    }

    /// Copies the next volume's bytes as stored (`bytesPerVolume`) into `bytes`, for `decode` on
    /// another thread.
    /// - Throws: `.truncated` if the file ends inside the volume; after the last volume, the
    ///   errors of verifying the rest of the stream.
    public func readRaw(into bytes: UnsafeMutableRawPointer) throws {
        precondition(volumesRead < volumeCount, "all \(volumeCount) volumes were read")
        let got = try opened.source.read(into: UnsafeMutableRawBufferPointer(start: bytes, count: bytesPerVolume))
        if got < bytesPerVolume {
            throw NIfTIError(.truncated, path: info.dataPath,
                             "file ends inside the voxel data: expected \(volumeCount * bytesPerVolume) bytes of \(datatype) data, got \(volumesRead * bytesPerVolume + got)")
        }
        volumesRead += 1
        if volumesRead == volumeCount { try opened.source.finish() }
    }

    /// Converts one volume's stored bytes (from `readRaw`) into `buffer`; safe to call from any
    /// thread.
    public func decode(_ bytes: UnsafeRawPointer, into buffer: UnsafeMutablePointer<Scalar>) {
        VoxelConversion.decode(bytes, count: voxelsPerVolume, datatype: datatype, swap: swap, scaling: scaling, into: buffer)
    }
}
