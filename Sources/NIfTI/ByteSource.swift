/// A forward-only source of bytes: a plain file or a gzip stream.
///
/// The reader pulls a NIfTI file through this protocol in bounded chunks, so that a `.nii.gz` is
/// never held compressed and uncompressed at once.
protocol ByteSource: AnyObject {
    /// The file the bytes come from, for error messages.
    var path: String { get }
    /// Fills `buffer` completely unless the stream ends first; returns the number of bytes written.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
    /// Called after the last needed byte: verifies the rest of the stream (for gzip, reads to the
    /// end so that every member's CRC-32 and length are checked and trailing garbage is caught).
    func finish() throws
}

extension ByteSource {
    /// Reads and discards the rest of the stream (for gzip: every member's trailer is checked).
    func readToEnd() throws {
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        defer { scratch.deallocate() }
        while try read(into: scratch) > 0 {}
    }

    /// Reads exactly `buffer.count` bytes or throws `.truncated`, naming `what` was being read.
    func readExactly(into buffer: UnsafeMutableRawBufferPointer, what: String) throws {
        let got = try read(into: buffer)
        if got < buffer.count {
            throw NIfTIError(.truncated, path: path,
                             "file ends inside the \(what): expected \(buffer.count) bytes, got \(got)")
        }
    }

    /// Discards `count` bytes, or throws `.truncated`.
    func skip(_ count: Int, what: String) throws {
        var left = count
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: min(max(count, 1), 1 << 16), alignment: 16)
        defer { scratch.deallocate() }
        while left > 0 {
            let chunk = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<min(left, scratch.count)])
            let got = try read(into: chunk)
            if got < chunk.count {
                throw NIfTIError(.truncated, path: path, "file ends inside the \(what)")
            }
            left -= got
        }
    }
}

/// Bytes of an uncompressed file, read sequentially.
final class PlainFileSource: ByteSource {
    let file: FileDescriptor
    var path: String { file.path }

    init(_ file: FileDescriptor) { self.file = file }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try file.readFully(into: buffer)
    }

    func finish() throws {}
}
