internal import CZlib

/// Streaming gzip decompression from a file descriptor (RFC 1952), as a `ByteSource`.
///
/// This class frames the stream; a `GzipMemberDecoder` inflates each member: ISA-L's igzip
/// (`IsalDecoder`, 2–3× zlib's speed) where it is installed, else zlib's (`ZlibDecoder`, also the
/// writer's codec, and chosen by `PIPE_INFLATE=zlib`). Both give the same bytes and errors.
///
/// - Multi-member files (concatenated gzip streams, as `cat a.gz b.gz` or pigz/bgzip write) are
///   read as one stream.
/// - The decoder checks each member's CRC-32 and ISIZE trailer; a mismatch is `.gzipCorrupt`.
/// - Zero bytes after the last member (tape padding) are accepted, as gzip does; anything else is
///   `.gzipCorrupt` ("trailing garbage").
/// - Memory: one 256 KiB input buffer plus the decoder's state (zlib's 32 KiB window, or ISA-L's
///   about 200 KiB), whatever the file size.
final class GzipInflateSource: ByteSource {
    private let file: FileDescriptor
    private let decoder: any GzipMemberDecoder
    private let input: UnsafeMutableRawBufferPointer
    private var nextIn: UnsafePointer<UInt8>?
    private var availIn: UInt32 = 0
    private var inputEOF = false
    private var memberEnded = false
    private var finished = false
    /// Total decompressed bytes produced so far.
    private(set) var totalOut: UInt64 = 0

    var path: String { file.path }

    /// Opens a gzip stream on `file`, which must be positioned at its start, inflating with
    /// `decoder` (default: ISA-L where available, else zlib).
    init(_ file: FileDescriptor, decoder: (any GzipMemberDecoder)? = nil, inputBufferSize: Int = 256 * 1024) throws {
        self.file = file
        self.decoder = try decoder ?? (IsalDecoder.isAvailable ? IsalDecoder(path: file.path) : ZlibDecoder(path: file.path))
        self.input = UnsafeMutableRawBufferPointer.allocate(byteCount: inputBufferSize, alignment: 16)
        // Magic check up front, so that a plain file named .gz gets a precise error.
        try refill()
        if availIn == 0 {
            throw NIfTIError(.notGzip, path: file.path, "the file is empty (0 bytes): a copy or download that did not finish?")
        }
        if availIn < 2 || input[0] != 0x1f || input[1] != 0x8b {
            throw NIfTIError(.notGzip, path: file.path,
                             "not a gzip file (expected magic bytes 1f 8b); is it an uncompressed .nii named .gz?")
        }
    }

    deinit { input.deallocate() }

    private func refill() throws {
        let got = try file.readFully(into: input)
        if got == 0 { inputEOF = true }
        nextIn = UnsafePointer(input.baseAddress!.assumingMemoryBound(to: UInt8.self))
        availIn = UInt32(got)
    }

    /// Decides what follows a finished member: another member, zero padding, or garbage.
    /// Returns true when another member starts.
    private func startNextMember() throws -> Bool {
        while true {
            if availIn == 0 {
                if inputEOF { return false }
                try refill()
                if availIn == 0 { return false }
            }
            let next = nextIn!.pointee
            if next == 0x1f {
                try decoder.reset(path: path)
                memberEnded = false
                return true
            }
            if next != 0 {
                throw NIfTIError(.gzipCorrupt, path: path,
                                 "trailing garbage after the gzip data (byte offset \(totalOut) of the output)")
            }
            // Zero padding: skip it.
            nextIn! += 1
            availIn -= 1
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
            if availIn == 0 && !inputEOF { try refill() }
            let want = UInt32(min(buffer.count - produced, Int(UInt32.max)))
            var availOut = want
            let ended = try decoder.inflate(&nextIn, &availIn, into: (base + produced).assumingMemoryBound(to: UInt8.self),
                                            &availOut, path: path)
            let made = Int(want - availOut)
            produced += made
            totalOut += UInt64(made)
            if ended { memberEnded = true }
            if made == 0 && availIn == 0 && inputEOF && !memberEnded {
                throw NIfTIError(.truncated, path: path,
                                 "gzip stream ends early after \(totalOut) decompressed bytes (truncated download?)")
            }
        }
        return produced
    }
}

/// Inflates one gzip member at a time for `GzipInflateSource`.
protocol GzipMemberDecoder: AnyObject {
    /// Inflates from `next`/`available` (both advanced past what was consumed) into `output`
    /// (`outputSpace` lowered by what was written). Returns true when the member ended with a
    /// good trailer. Throws `.gzipCorrupt` for bad data, header or trailer.
    func inflate(_ next: inout UnsafePointer<UInt8>?, _ available: inout UInt32, into output: UnsafeMutablePointer<UInt8>,
                 _ outputSpace: inout UInt32, path: String) throws -> Bool
    /// Readies the decoder for the next member.
    func reset(path: String) throws
}

/// zlib's inflate, gzip framing (`inflateInit2` with 16 + 15 window bits).
final class ZlibDecoder: GzipMemberDecoder {
    private let stream: z_streamp

    init(path: String) throws {
        guard let stream = pipe_zstream_create() else {
            throw NIfTIError(.io, path: path, "cannot allocate a zlib stream")
        }
        let status = pipe_inflate_init_gzip(stream)
        if status != Z_OK {
            pipe_zstream_destroy(stream)
            throw NIfTIError(.io, path: path, "zlib inflateInit2 failed (\(status))")
        }
        self.stream = stream
    }

    deinit {
        inflateEnd(stream)
        pipe_zstream_destroy(stream)
    }

    func reset(path: String) throws {
        if inflateReset(stream) != Z_OK {
            throw NIfTIError(.gzipCorrupt, path: path, "cannot reset zlib for the next gzip member")
        }
    }

    func inflate(_ next: inout UnsafePointer<UInt8>?, _ available: inout UInt32, into output: UnsafeMutablePointer<UInt8>,
                 _ outputSpace: inout UInt32, path: String) throws -> Bool {
        stream.pointee.next_in = next.map { UnsafeMutablePointer(mutating: $0) }
        stream.pointee.avail_in = uInt(available)
        stream.pointee.next_out = output
        stream.pointee.avail_out = uInt(outputSpace)
        let status = CZlib.inflate(stream, Z_NO_FLUSH)
        next = stream.pointee.next_in.map { UnsafePointer($0) }
        available = UInt32(stream.pointee.avail_in)
        outputSpace = UInt32(stream.pointee.avail_out)
        stream.pointee.next_in = nil
        stream.pointee.next_out = nil
        switch status {
        case Z_OK:
            return false
        case Z_STREAM_END:
            return true
        case Z_BUF_ERROR:
            // No progress was possible: more input is needed, or the stream is cut short (the
            // caller tells which).
            return false
        case Z_DATA_ERROR:
            let detail = stream.pointee.msg.map { String(cString: $0) } ?? "invalid deflate data"
            throw NIfTIError(.gzipCorrupt, path: path, "corrupt gzip data: \(detail)")
        case Z_MEM_ERROR:
            throw NIfTIError(.io, path: path, "zlib ran out of memory")
        default:
            throw NIfTIError(.gzipCorrupt, path: path, "zlib inflate failed with status \(status)")
        }
    }
}
