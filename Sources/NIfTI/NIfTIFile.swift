/// What `NIfTIFile.readHeader` learns about a file without reading its voxels.
public struct NIfTIFileInfo: Sendable {
    /// The path given (for a pair, either the `.hdr` or the `.img`).
    public var path: String
    /// The file holding the header.
    public var headerPath: String
    /// The file holding the voxel data (the same file unless it is a `.hdr/.img` pair).
    public var dataPath: String
    public var header: NIfTIHeader
    /// The byte order of header and data.
    public var byteOrder: ByteOrder
    public var extensions: [NIfTIExtension]
    /// Whether the data file is gzip-compressed.
    public var isCompressed: Bool
    /// Size on disk of the data file.
    public var fileSize: UInt64
    /// Problems that do not stop reading (`NIfTIHeader.validate()`).
    public var issues: [HeaderIssue] { header.validate() }
}

/// Reading NIfTI-1 and NIfTI-2 files: `.nii`, `.nii.gz`, and `.hdr/.img` pairs (optionally gzipped).
///
/// The file is streamed: the header, the extensions and then the voxel data in 1 MiB chunks, so a
/// `.nii.gz` is never held compressed and decompressed at once, and memory is the output array plus
/// a few buffers. Nothing is allocated from the header's word alone: the data size is checked
/// against the file size first (for gzip, against the most that deflate can expand the file, 1032:1).
public enum NIfTIFile {
    /// The largest expansion deflate can achieve, used to bound what a `.gz` file can hold.
    static let maxDeflateRatio: UInt64 = 1032
    /// Bytes converted per chunk.
    static let chunkBytes = 1 << 20

    /// Reads the header and extensions only.
    public static func readHeader(_ path: String) throws -> NIfTIFileInfo {
        try open(path, inputBufferSize: 16 * 1024).info
    }

    /// Reads an image with its voxels converted to `Scalar` (scaling applied).
    public static func read<Scalar: NIfTIScalar>(_ path: String, as _: Scalar.Type = Float.self) throws -> NIfTIImage<Scalar> {
        let opened = try open(path)
        let info = opened.info
        let datatype = info.header.datatype!
        let (voxels, _) = try info.header.dataSize(path: path)
        let swap = info.byteOrder != .host && datatype.bytesPerVoxel > 1
        let scaling = info.header.scaling
        var failure: (any Error)?
        let data = [Scalar](unsafeUninitializedCapacity: voxels) { buffer, initialized in
            do {
                try streamVoxels(opened, voxels: voxels) { chunk, first, count in
                    VoxelConversion.decode(chunk, count: count, datatype: datatype, swap: swap,
                                           scaling: scaling, into: buffer.baseAddress! + first)
                }
                initialized = voxels
            } catch {
                // Zero-fill so the array is valid before it is discarded.
                buffer.baseAddress?.initialize(repeating: 0, count: voxels)
                initialized = voxels
                failure = error
            }
        }
        if let failure { throw failure }
        return NIfTIImage(header: info.header, extensions: info.extensions, data: data)
    }

    /// Reads the voxel bytes as stored, converted to host byte order, without scaling.
    public static func readRaw(_ path: String) throws -> (info: NIfTIFileInfo, bytes: [UInt8]) {
        let opened = try open(path)
        let info = opened.info
        let width = info.header.datatype!.bytesPerVoxel
        let (voxels, byteCount) = try info.header.dataSize(path: path)
        let swap = info.byteOrder != .host && width > 1
        var failure: (any Error)?
        let bytes = [UInt8](unsafeUninitializedCapacity: byteCount) { buffer, initialized in
            do {
                try streamVoxels(opened, voxels: voxels) { chunk, first, count in
                    let dst = UnsafeMutableRawPointer(buffer.baseAddress! + first * width)
                    dst.copyMemory(from: chunk, byteCount: count * width)
                    if swap { VoxelConversion.swapInPlace(dst, count: count, width: width) }
                }
            } catch {
                buffer.baseAddress?.initialize(repeating: 0, count: byteCount)
                failure = error
            }
            initialized = byteCount
        }
        if let failure { throw failure }
        return (info, bytes)
    }

    /// An open file positioned at the start of its voxel data.
    struct Opened {
        var info: NIfTIFileInfo
        var source: any ByteSource
    }

    /// Feeds the voxel data to `body` in chunks: (raw bytes, index of the first voxel, voxel count).
    static func streamVoxels(
        _ opened: Opened, voxels: Int, _ body: (UnsafeRawPointer, Int, Int) -> Void
    ) throws {
        let width = opened.info.header.datatype!.bytesPerVoxel
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkBytes, alignment: 64)
        defer { chunk.deallocate() }
        let perChunk = chunkBytes / width
        var done = 0
        while done < voxels {
            let count = min(perChunk, voxels - done)
            let slice = UnsafeMutableRawBufferPointer(rebasing: chunk[0..<(count * width)])
            let got = try opened.source.read(into: slice)
            if got < slice.count {
                let expected = voxels * width
                throw NIfTIError(.truncated, path: opened.info.dataPath,
                                 "file ends inside the voxel data: expected \(expected) bytes of \(opened.info.header.datatype!) data, got \(done * width + got)")
            }
            body(UnsafeRawPointer(chunk.baseAddress!), done, count)
            done += count
        }
        try opened.source.finish()
    }

    /// Whether a path names a `.hdr/.img` pair member.
    static func pairPaths(_ path: String) -> (header: String, data: String)? {
        let lower = path.lowercased()
        for gz in ["", ".gz"] {
            if lower.hasSuffix(".hdr" + gz) {
                let stem = String(path.dropLast(4 + gz.count))
                return (path, stem + ".img" + gz)
            }
            if lower.hasSuffix(".img" + gz) {
                let stem = String(path.dropLast(4 + gz.count))
                return (stem + ".hdr" + gz, path)
            }
        }
        return nil
    }

    /// Opens a file (or the right source of a pair) as a byte stream.
    static func openSource(_ path: String, inputBufferSize: Int = 256 * 1024) throws -> (source: any ByteSource, compressed: Bool, size: UInt64) {
        let fd = try FileDescriptor.openForReading(path)
        let size = try fd.size()
        var magic: [UInt8] = [0, 0]
        let got = try magic.withUnsafeMutableBytes { buffer throws in try fd.pread(into: buffer, at: 0) }
        let namedGzip = path.lowercased().hasSuffix(".gz")
        let looksGzip = got == 2 && magic == [0x1f, 0x8b]
        if namedGzip || looksGzip {
            // ISA-L's inflate where it is installed (2-3x zlib), else zlib: the same bytes and errors.
            return (try GzipInflateSource(fd, inputBufferSize: inputBufferSize), true, size)
        }
        return (PlainFileSource(fd), false, size)
    }

    /// Opens a file, decodes and checks its header, reads its extensions, and positions the data
    /// stream at `vox_offset`. A gzip file is read `inputBufferSize` compressed bytes at a time
    /// (less for a header alone: the first block holds it).
    static func open(_ path: String, inputBufferSize: Int = 256 * 1024) throws -> Opened {
        let pair = pairPaths(path)
        let headerPath = pair?.header ?? path
        let (headerSource, headerCompressed, headerFileSize) = try openSource(headerPath, inputBufferSize: inputBufferSize)

        var first = [UInt8](repeating: 0, count: 4)
        try first.withUnsafeMutableBytes { buffer throws in
            try headerSource.readExactly(into: buffer, what: "header (sizeof_hdr)")
        }
        let (version, _) = try NIfTIHeader.detectVersion(first, path: headerPath)
        let headerSize = NIfTIHeader.headerSize(version)
        var rest = [UInt8](repeating: 0, count: headerSize - 4)
        try rest.withUnsafeMutableBytes { buffer throws in
            try headerSource.readExactly(into: buffer, what: "\(headerSize)-byte NIfTI-\(version.rawValue) header")
        }
        let (header, order) = try NIfTIHeader.decode(first + rest, path: headerPath)
        try header.checkReadable(path: headerPath)
        if header.isSingleFile == (pair != nil) {
            let expected = pair != nil ? "'ni\(version.rawValue)' (a .hdr/.img pair)" : "'n+\(version.rawValue)' (a single .nii file)"
            throw NIfTIError(.badMagic, path: headerPath, field: "magic", "does not match the file name; expected \(expected)")
        }
        let voxOffset = UInt64(header.voxOffset)
        let (_, dataBytes) = try header.dataSize(path: headerPath)

        var extensions: [NIfTIExtension] = []
        var consumed = UInt64(headerSize)
        if pair == nil {
            // Extensions live between the header and vox_offset.
            try checkCapacity(path: headerPath, compressed: headerCompressed, fileSize: headerFileSize,
                              voxOffset: voxOffset, dataBytes: dataBytes, header: header)
            if voxOffset >= consumed + 4 {
                extensions = try readExtensions(headerSource, path: headerPath, order: order,
                                                consumed: &consumed, limit: voxOffset)
            }
            try headerSource.skip(Int(voxOffset - consumed), what: "gap before vox_offset \(voxOffset)")
            let info = NIfTIFileInfo(path: path, headerPath: headerPath, dataPath: path, header: header,
                                     byteOrder: order, extensions: extensions, isCompressed: headerCompressed,
                                     fileSize: headerFileSize)
            return Opened(info: info, source: headerSource)
        }

        // A pair: extensions run to the end of the .hdr; data start at vox_offset in the .img.
        if headerCompressed || headerFileSize >= consumed + 4 {
            extensions = try readExtensions(headerSource, path: headerPath, order: order, consumed: &consumed,
                                            limit: headerCompressed ? nil : headerFileSize)
        }
        let dataPath = pair!.data
        let (dataSource, dataCompressed, dataFileSize) = try openSource(dataPath)
        try checkCapacity(path: dataPath, compressed: dataCompressed, fileSize: dataFileSize,
                          voxOffset: voxOffset, dataBytes: dataBytes, header: header)
        try dataSource.skip(Int(voxOffset), what: "gap before vox_offset \(voxOffset)")
        let info = NIfTIFileInfo(path: path, headerPath: headerPath, dataPath: dataPath, header: header,
                                 byteOrder: order, extensions: extensions, isCompressed: dataCompressed,
                                 fileSize: dataFileSize)
        return Opened(info: info, source: dataSource)
    }

    /// Refuses a header whose vox_offset or data size the file cannot hold, before any allocation.
    static func checkCapacity(
        path: String, compressed: Bool, fileSize: UInt64, voxOffset: UInt64, dataBytes: Int, header: NIfTIHeader
    ) throws {
        let (need, overflow) = voxOffset.addingReportingOverflow(UInt64(dataBytes))
        let capacity = compressed ? fileSize.multipliedReportingOverflow(by: maxDeflateRatio).partialValue + 65536 : fileSize
        if !compressed && voxOffset > fileSize {
            throw NIfTIError(.badVoxOffset, path: path, field: "vox_offset",
                             "is \(voxOffset), beyond the end of the file (\(fileSize) bytes)")
        }
        if overflow || need > capacity {
            let what = "shape \(header.shape.map(String.init).joined(separator: "x")) of \(header.datatype!) (\(dataBytes) bytes) from offset \(voxOffset)"
            let has = compressed ? "a gzip file of \(fileSize) bytes can hold at most \(capacity) bytes" : "the file has \(fileSize) bytes"
            throw NIfTIError(.dataExceedsFile, path: path, field: "dim", "declares \(what), but \(has)")
        }
    }

    /// Reads the extender and extensions, advancing `consumed`; `limit` is where they must end
    /// (vox_offset, or the .hdr size; nil = until the stream ends).
    static func readExtensions(
        _ source: any ByteSource, path: String, order: ByteOrder, consumed: inout UInt64, limit: UInt64?
    ) throws -> [NIfTIExtension] {
        var extender = [UInt8](repeating: 0, count: 4)
        let got = try extender.withUnsafeMutableBytes { buffer throws in try source.read(into: buffer) }
        if got < 4 {
            if limit == nil { return [] }
            throw NIfTIError(.truncated, path: path, "file ends inside the 4-byte extension flag after the header")
        }
        consumed += 4
        guard extender[0] != 0 else { return [] }
        var extensions: [NIfTIExtension] = []
        while limit.map({ consumed + 8 <= $0 }) ?? true {
            var prefix = [UInt8](repeating: 0, count: 8)
            let n = try prefix.withUnsafeMutableBytes { buffer throws in try source.read(into: buffer) }
            if n == 0 && limit == nil { break }
            if n < 8 {
                throw NIfTIError(.truncated, path: path, "file ends inside header extension \(extensions.count + 1)")
            }
            let bytes = HeaderBytes(prefix, order: order)
            let esize = Int64(bytes.load(Int32.self, at: 0))
            let ecode = bytes.load(Int32.self, at: 4)
            let room = limit.map { Int64($0 - consumed) } ?? Int64(16 << 20)
            if esize < 8 || esize > room {
                throw NIfTIError(.badExtension, path: path, field: "extension \(extensions.count + 1) esize",
                                 "is \(esize); expected at least 8 and at most the \(room) bytes left before vox_offset")
            }
            var content = [UInt8](repeating: 0, count: Int(esize - 8))
            try content.withUnsafeMutableBytes { buffer throws in
                try source.readExactly(into: buffer, what: "header extension \(extensions.count + 1)")
            }
            extensions.append(NIfTIExtension(code: ecode, content: content))
            consumed += UInt64(esize)
        }
        return extensions
    }
}
