internal import CZlib

/// Streaming gzip decompression from a file descriptor (RFC 1952), as a `ByteSource`.
///
/// - Multi-member files (concatenated gzip streams, as `cat a.gz b.gz` or pigz/bgzip write) are
///   read as one stream.
/// - zlib checks each member's CRC-32 and ISIZE trailer; a mismatch is `.gzipCorrupt`.
/// - Zero bytes after the last member (tape padding) are accepted, as gzip does; anything else is
///   `.gzipCorrupt` ("trailing garbage").
/// - Memory: one 256 KiB input buffer plus zlib's 32 KiB window, whatever the file size.
final class GzipInflateSource: ByteSource {
    private let file: FileDescriptor
    private let stream: z_streamp
    private let input: UnsafeMutableRawBufferPointer
    private var inputEOF = false
    private var memberEnded = false
    private var finished = false
    /// Total decompressed bytes produced so far.
    private(set) var totalOut: UInt64 = 0

    var path: String { file.path }

    /// Opens a gzip stream on `file`, which must be positioned at its start.
    init(_ file: FileDescriptor, inputBufferSize: Int = 256 * 1024) throws {
        self.file = file
        guard let stream = pipe_zstream_create() else {
            throw NIfTIError(.io, path: file.path, "cannot allocate a zlib stream")
        }
        self.stream = stream
        self.input = UnsafeMutableRawBufferPointer.allocate(byteCount: inputBufferSize, alignment: 16)
        let status = pipe_inflate_init_gzip(stream)
        if status != Z_OK {
            input.deallocate()
            pipe_zstream_destroy(stream)
            throw NIfTIError(.io, path: file.path, "zlib inflateInit2 failed (\(status))")
        }
        // Magic check up front, so that a plain file named .gz gets a precise error.
        try refill()
        if stream.pointee.avail_in < 2 || input[0] != 0x1f || input[1] != 0x8b {
            throw NIfTIError(.notGzip, path: file.path,
                             "not a gzip file (expected magic bytes 1f 8b); is it an uncompressed .nii named .gz?")
        }
    }

    deinit {
        stream.pointee.next_in = nil
        stream.pointee.next_out = nil
        inflateEnd(stream)
        pipe_zstream_destroy(stream)
        input.deallocate()
    }

    private func refill() throws {
        let got = try file.readFully(into: input)
        if got == 0 { inputEOF = true }
        stream.pointee.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_in = uInt(got)
    }

    /// Decides what follows a finished member: another member, zero padding, or garbage.
    /// Returns true when another member starts.
    private func startNextMember() throws -> Bool {
        while true {
            if stream.pointee.avail_in == 0 {
                if inputEOF { return false }
                try refill()
                if stream.pointee.avail_in == 0 { return false }
            }
            let next = stream.pointee.next_in.pointee
            if next == 0x1f {
                if inflateReset(stream) != Z_OK {
                    throw NIfTIError(.gzipCorrupt, path: path, "cannot reset zlib for the next gzip member")
                }
                memberEnded = false
                return true
            }
            if next != 0 {
                throw NIfTIError(.gzipCorrupt, path: path,
                                 "trailing garbage after the gzip data (byte offset \(totalOut) of the output)")
            }
            // Zero padding: skip it.
            stream.pointee.next_in += 1
            stream.pointee.avail_in -= 1
        }
    }

    func finish() throws { try readToEnd() }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0, !finished else { return 0 }
        var produced = 0
        while produced < buffer.count {
            if memberEnded {
                if try !startNextMember() {
                    finished = true
                    break
                }
            }
            if stream.pointee.avail_in == 0 && !inputEOF { try refill() }
            let want = min(buffer.count - produced, Int(UInt32.max))
            stream.pointee.next_out = (base + produced).assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(want)
            let status = inflate(stream, Z_NO_FLUSH)
            let made = want - Int(stream.pointee.avail_out)
            produced += made
            totalOut += UInt64(made)
            switch status {
            case Z_OK:
                continue
            case Z_STREAM_END:
                memberEnded = true
            case Z_BUF_ERROR:
                // No progress was possible: either more input is needed or the stream is cut short.
                if stream.pointee.avail_in == 0 && inputEOF {
                    throw NIfTIError(.truncated, path: path,
                                     "gzip stream ends early after \(totalOut) decompressed bytes (truncated download?)")
                }
            case Z_DATA_ERROR:
                let detail = stream.pointee.msg.map { String(cString: $0) } ?? "invalid deflate data"
                throw NIfTIError(.gzipCorrupt, path: path, "corrupt gzip data: \(detail)")
            case Z_MEM_ERROR:
                throw NIfTIError(.io, path: path, "zlib ran out of memory")
            default:
                throw NIfTIError(.gzipCorrupt, path: path, "zlib inflate failed with status \(status)")
            }
            if made == 0 && stream.pointee.avail_in == 0 && inputEOF && !memberEnded {
                throw NIfTIError(.truncated, path: path,
                                 "gzip stream ends early after \(totalOut) decompressed bytes (truncated download?)")
            }
        }
        stream.pointee.next_out = nil
        return produced
    }
}
