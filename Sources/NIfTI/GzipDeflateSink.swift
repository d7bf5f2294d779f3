internal import CZlib

/// Streaming gzip compression to a file descriptor.
///
/// The gzip header zlib writes has mtime 0 and no file name, so the same bytes in give the same
/// file out (pipe's outputs must be byte-identical across runs).
final class GzipDeflateSink {
    private let file: FileDescriptor
    private let stream: z_streamp
    private let output: UnsafeMutableRawBufferPointer
    private var ended = false

    /// - Parameters:
    ///   - level: zlib level 0...9; pipe defaults to 1, the fast level.
    ///   - runLength: zlib's run-length strategy (``NIfTIWriteOptions/runLength``).
    init(_ file: FileDescriptor, level: Int32, runLength: Bool = false, outputBufferSize: Int = 256 * 1024) throws {
        self.file = file
        guard let stream = pipe_zstream_create() else {
            throw NIfTIError(.io, path: file.path, "cannot allocate a zlib stream")
        }
        self.stream = stream
        self.output = UnsafeMutableRawBufferPointer.allocate(byteCount: outputBufferSize, alignment: 16)
        let status = pipe_deflate_init_gzip(stream, level, runLength ? 1 : 0)
        if status != Z_OK {
            output.deallocate()
            pipe_zstream_destroy(stream)
            throw NIfTIError(.io, path: file.path, "zlib deflateInit2 failed (\(status))")
        }
    }

    deinit {
        stream.pointee.next_in = nil
        stream.pointee.next_out = nil
        deflateEnd(stream)
        pipe_zstream_destroy(stream)
        output.deallocate()
    }

    /// Compresses `bytes` and writes whatever output zlib produces.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        var offset = 0
        while offset < bytes.count {
            let take = min(bytes.count - offset, Int(UInt32.max))
            stream.pointee.next_in = UnsafeMutablePointer(mutating: (base + offset).assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(take)
            try pump(flush: Z_NO_FLUSH)
            offset += take
        }
        stream.pointee.next_in = nil
    }

    /// Ends the gzip stream (writes the CRC-32/ISIZE trailer).
    func finish() throws {
        guard !ended else { return }
        stream.pointee.avail_in = 0
        try pump(flush: Z_FINISH)
        ended = true
    }

    private func pump(flush: Int32) throws {
        while true {
            stream.pointee.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(output.count)
            let status = deflate(stream, flush)
            if status == Z_STREAM_ERROR {
                throw NIfTIError(.io, path: file.path, "zlib deflate failed")
            }
            let have = output.count - Int(stream.pointee.avail_out)
            if have > 0 {
                try file.writeAll(UnsafeRawBufferPointer(rebasing: output[0..<have]))
            }
            if flush == Z_FINISH {
                if status == Z_STREAM_END { return }
            } else if stream.pointee.avail_out != 0 {
                return
            }
        }
    }
}
