#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writing `.nii` and `.nii.gz` files.
///
/// A file is written to a temporary name in the same folder, fsynced (unless
/// `NIfTIWriteOptions.sync` is false) and renamed into place, so a reader never sees half a file.
/// The affine goes into both the sform (exactly) and the qform (its nearest rigid-plus-zoom form). Output is deterministic: the same image and options give the
/// same bytes (the gzip header carries no time stamp or name).
extension NIfTIFile {
    /// Writes `image` with its voxels converted to `options.datatype`.
    public static func write<Scalar: NIfTIScalar>(
        _ image: NIfTIImage<Scalar>, to path: String, options: NIfTIWriteOptions = NIfTIWriteOptions()
    ) throws {
        let datatype = options.datatype
        guard datatype.isSupported else {
            throw NIfTIError(.unsupportedDatatype, path: path, field: "datatype", "cannot write \(datatype)")
        }
        var header = image.header
        header.datatypeCode = datatype.rawValue
        header.bitpix = Int32(datatype.bitsPerVoxel)
        var scaling: (slope: Double, intercept: Double)? = nil
        if datatype.isInteger {
            scaling = options.scaling ?? automaticScaling(image.data, datatype)
            if var s = scaling, options.version == .nifti1 {
                // NIfTI-1 stores float32 scaling: encode with the values a reader will see.
                s = (Double(Float(s.slope)), Double(Float(s.intercept)))
                scaling = s
            }
            header.sclSlope = scaling?.slope ?? 1
            header.sclInter = scaling?.intercept ?? 0
        } else {
            header.sclSlope = 1
            header.sclInter = 0
        }
        let width = datatype.bytesPerVoxel
        let count = image.data.count
        try image.data.withUnsafeBufferPointer { src throws in
            try writeStream(header: header, extensions: image.extensions, voxelBytes: count * width, to: path, options: options) {
                chunk, firstByte, byteCount in
                let first = firstByte / width
                VoxelConversion.encode(src.baseAddress! + first, count: byteCount / width, datatype: datatype,
                                       scaling: scaling, into: chunk)
            }
        }
    }

    /// Writes voxel bytes as given (host byte order) under `header`, converting byte order if asked.
    /// For tests and tools that must control every header field.
    public static func writeRaw(
        header: NIfTIHeader, extensions: [NIfTIExtension] = [], bytes: [UInt8], to path: String,
        options: NIfTIWriteOptions = NIfTIWriteOptions()
    ) throws {
        try bytes.withUnsafeBytes { src throws in
            try writeStream(header: header, extensions: extensions, voxelBytes: src.count, to: path, options: options) {
                chunk, firstByte, byteCount in
                chunk.copyMemory(from: src.baseAddress! + firstByte, byteCount: byteCount)
            }
        }
    }

    /// The slope and intercept for storing `data` as an integer `datatype`: none when every finite
    /// value is an integer within the type's range, else the map of [min, max] onto the type's range.
    /// Dispatches to code specialised for `Float` and `Double`, as `VoxelConversion` does: a caller
    /// in another module reaches it unspecialised (a mask of 902k voxels took 15 ms so).
    static func automaticScaling<Scalar: NIfTIScalar>(_ data: [Scalar], _ datatype: NIfTIDatatype) -> (slope: Double, intercept: Double)? {
        if Scalar.self == Float.self { return scaling(unsafeBitCast(data, to: [Float].self), datatype) }
        if Scalar.self == Double.self { return scaling(unsafeBitCast(data, to: [Double].self), datatype) }
        return scaling(data, datatype)
    }

    @inline(__always)
    private static func scaling<Scalar: NIfTIScalar>(_ data: [Scalar], _ datatype: NIfTIDatatype) -> (slope: Double, intercept: Double)? {
        let range = datatype.integerRange!
        var lo = Double.infinity, hi = -Double.infinity, integral = true
        for v in data where v.isFinite {
            let d = Double(v)
            lo = min(lo, d)
            hi = max(hi, d)
            if integral && d != d.rounded() { integral = false }
        }
        if lo > hi { return nil }
        if integral && range.contains(lo) && range.contains(hi) { return nil }
        if hi == lo { return (1, lo) }
        let slope = (hi - lo) / (range.upperBound - range.lowerBound)
        return (slope, lo - range.lowerBound * slope)
    }

    /// Streams header, extensions and voxel data (filled chunk by chunk by `fill(chunk, firstByte,
    /// byteCount)` in host byte order) to a temporary file, then renames it to `path`.
    static func writeStream(
        header original: NIfTIHeader, extensions: [NIfTIExtension], voxelBytes: Int, to path: String,
        options: NIfTIWriteOptions, fill: (UnsafeMutableRawPointer, Int, Int) -> Void
    ) throws {
        guard let datatype = original.datatype, datatype.isSupported else {
            throw NIfTIError(.unsupportedDatatype, path: path, field: "datatype", "cannot write datatype code \(original.datatypeCode)")
        }
        if FileDescriptor.isPairPath(path) {
            throw NIfTIError(.unsupportedLayout, path: path, "pipe writes single-file .nii or .nii.gz, not .hdr/.img pairs")
        }
        var header = original
        header.version = options.version
        header.isSingleFile = true
        let extensionBytes = extensions.reduce(0) { $0 + $1.encodedSize }
        header.voxOffset = Double(NIfTIHeader.headerSize(options.version) + 4 + extensionBytes)
        let (_, expected) = try header.dataSize(path: path)
        precondition(expected == voxelBytes, "voxel byte count must match the header's shape and datatype")

        var prefix = try header.encode(order: options.byteOrder, path: path)
        prefix += [extensions.isEmpty ? 0 : 1, 0, 0, 0]
        for ext in extensions {
            var block = HeaderBytes(count: ext.encodedSize, order: options.byteOrder)
            block.store(Int32(ext.encodedSize), at: 0)
            block.store(ext.code, at: 4)
            for (i, b) in ext.content.enumerated() { block.bytes[8 + i] = b }
            prefix += block.bytes
        }

        let temporary = FileDescriptor.temporarySibling(of: path)
        let fd = try FileDescriptor.createForWriting(temporary)
        var renamed = false
        defer { if !renamed { unlink(temporary) } }
        let compressed = path.lowercased().hasSuffix(".gz")
        let sink = compressed ? try GzipDeflateSink(fd, level: options.compressionLevel, runLength: options.runLength) : nil
        func emit(_ bytes: UnsafeRawBufferPointer) throws {
            if let sink { try sink.write(bytes) } else { try fd.writeAll(bytes) }
        }
        try prefix.withUnsafeBytes { bytes throws in try emit(bytes) }

        let width = datatype.bytesPerVoxel
        let swap = options.byteOrder != .host && width > 1
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkBytes, alignment: 64)
        defer { chunk.deallocate() }
        var done = 0
        while done < voxelBytes {
            let n = min(chunkBytes, voxelBytes - done)
            fill(chunk.baseAddress!, done, n)
            if swap { VoxelConversion.swapInPlace(chunk.baseAddress!, count: n / width, width: width) }
            try emit(UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
            done += n
        }
        try sink?.finish()
        if options.sync { try fd.sync() }
        if rename(temporary, path) != 0 {
            throw FileDescriptor.ioError(path, "cannot rename the temporary file into place")
        }
        renamed = true
    }
}

extension FileDescriptor {
    /// A unique temporary path next to `path`, for write-then-rename.
    static func temporarySibling(of path: String) -> String {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        return "\(folder).\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Whether `path` names a member of a `.hdr/.img` pair.
    static func isPairPath(_ path: String) -> Bool { NIfTIFile.pairPaths(path) != nil }
}
