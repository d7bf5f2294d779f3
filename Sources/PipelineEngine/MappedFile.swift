import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file mapped into memory, for outputs too large to copy twice.
///
/// - Writing (`TaskContext.mapOutput`): the file is created at its full size and mapped shared,
///   so the memory the task fills is the file's page cache: no write(2) copy, no second buffer.
///   On Linux its blocks are reserved first (`posix_fallocate`), so a full disk is an error at
///   creation and not a SIGBUS at a page write; elsewhere the file is only sized (`ftruncate`).
///   `finish(length:)` cuts it and makes the mapping read-only, so no write can follow its digest.
///   A large output may reuse a spare file (``SpareFiles``): cleared, it reads as zeros as a new
///   file does.
/// - Reading (`MappedFile(readingFrom:)`): a private copy-on-write mapping over the page cache,
///   faulted in as it is read. A cached output is read without a copy, and a stray write changes
///   only this process's copy of the page.
///
/// The memory stays valid until the object is released.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    /// The mapped bytes in use: the whole file, or its first `length` bytes after `finish`.
    public private(set) var bytes: UnsafeMutableRawBufferPointer
    /// The whole mapping, for `munmap`.
    private let mapping: UnsafeMutableRawBufferPointer
    /// Open while the file is being written (-1 for a reading mapping).
    private var descriptor: Int32

    /// Maps an existing file for reading.
    public init(readingFrom path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PipeError(.io, "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }  // the mapping outlives the descriptor
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw PipeError(.io, "cannot stat \(path): \(String(cString: strerror(errno)))") }
        mapping = try Self.map(fd, count: Int(st.st_size), flags: MAP_PRIVATE, path: path)
        bytes = mapping
        self.path = path
        descriptor = -1
    }

    /// Creates (or truncates) `path` with `byteCount` bytes of zeros and maps it for writing; a
    /// spare of `spares` becomes the file when `byteCount` is at least their minimum size.
    init(creating path: String, byteCount: Int, spares: SpareFiles? = nil) throws {
        var reusing = spares.map { Int64(byteCount) >= $0.minimumBytes && $0.take(to: path) } ?? false
        // A spare was a published output, made read-only; one that cannot be made writable again
        // is replaced by a new file.
        if reusing && chmod(path, 0o644) != 0 {
            unlink(path)
            reusing = false
        }
        let fd = open(path, O_RDWR | O_CREAT | (reusing ? 0 : O_TRUNC) | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw PipeError(.io, "cannot create \(path): \(String(cString: strerror(errno)))") }
        do {
            // The spare's bytes that stay in the file, once cut to `byteCount` (0 when not reusing
            // one, or when its pages are no longer in memory: then it is emptied and used as new).
            var kept = 0
            if reusing {
                var st = stat()
                kept = fstat(fd, &st) == 0 ? min(Int(st.st_size), byteCount) : 0
                if !SpareFiles.resident(fd, bytes: kept) { kept = 0 }
                if ftruncate(fd, off_t(kept)) != 0 {
                    throw PipeError(.io, "cannot size \(path) to \(kept) bytes: \(String(cString: strerror(errno)))")
                }
            }
            if byteCount > 0 {
                #if os(Linux)
                let rc = posix_fallocate(fd, 0, off_t(byteCount))
                if rc != 0 { throw PipeError(.io, "cannot reserve \(byteCount) bytes for \(path): \(String(cString: strerror(rc)))") }
                #else
                if ftruncate(fd, off_t(byteCount)) != 0 {
                    throw PipeError(.io, "cannot size \(path) to \(byteCount) bytes: \(String(cString: strerror(errno)))")
                }
                #endif
            }
            mapping = try Self.map(fd, count: byteCount, flags: MAP_SHARED, path: path)
            if kept > 0 { mapping.baseAddress!.initializeMemory(as: UInt8.self, repeating: 0, count: kept) }
        } catch {
            close(fd)
            unlink(path)
            throw error
        }
        bytes = mapping
        self.path = path
        descriptor = fd
    }

    private static func map(_ fd: Int32, count: Int, flags: Int32, path: String) throws -> UnsafeMutableRawBufferPointer {
        guard count > 0 else { return UnsafeMutableRawBufferPointer(start: nil, count: 0) }
        guard let address = mmap(nil, count, PROT_READ | PROT_WRITE, flags, fd, 0), address != MAP_FAILED else {
            throw PipeError(.io, "cannot map \(path) (\(count) bytes): \(String(cString: strerror(errno)))")
        }
        return UnsafeMutableRawBufferPointer(start: address, count: count)
    }

    /// Ends a file being written at its first `length` bytes: flushes the mapping where the
    /// system updates the modification time only then (not Linux, which does at the first write
    /// to each page), cuts the file, makes the memory read-only and closes the file.
    /// - Returns: the file's identity afterwards, which no later write through this object can change.
    func finish(length: Int) throws -> FileSystem.FileIdentity? {
        precondition(descriptor >= 0, "\(path) is not being written")
        precondition(length >= 0 && length <= mapping.count, "finishing \(path) at \(length) of \(mapping.count) bytes")
        defer {
            close(descriptor)
            descriptor = -1
        }
        if let base = mapping.baseAddress {
            #if !os(Linux)
            if msync(base, mapping.count, MS_SYNC) != 0 { throw PipeError(.io, "cannot flush \(path): \(String(cString: strerror(errno)))") }
            #endif
            if mprotect(base, mapping.count, PROT_READ) != 0 {
                throw PipeError(.io, "cannot protect \(path): \(String(cString: strerror(errno)))")
            }
        }
        if length < mapping.count, ftruncate(descriptor, off_t(length)) != 0 {
            throw PipeError(.io, "cannot truncate \(path): \(String(cString: strerror(errno)))")
        }
        bytes = UnsafeMutableRawBufferPointer(rebasing: mapping[0..<length])
        return try FileSystem.identity(of: path)
    }

    deinit {
        if let base = mapping.baseAddress { munmap(base, mapping.count) }
        if descriptor >= 0 { close(descriptor) }
    }
}
