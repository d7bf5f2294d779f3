import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file mapped into memory, for outputs too large to copy twice.
///
/// - Writing (`TaskContext.mapOutput`): the file is created with its blocks reserved, so a full
///   disk is an error at creation and not a crash at a page write. It is mapped shared: the memory
///   the task fills is the file's page cache, so there is no write(2) copy and no second buffer.
/// - Reading (`MappedFile(readingFrom:)`): a private copy-on-write mapping over the page cache,
///   with its page tables filled at once. A cached output is read without a copy, and a stray
///   write changes only this process's copy of the page.
///
/// The memory stays valid until the object is released.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    /// The mapped bytes (empty for an empty file).
    public let bytes: UnsafeMutableRawBufferPointer
    private let descriptor: Int32

    /// Maps an existing file for reading.
    public init(readingFrom path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PipeError(.io, "cannot open \(path): \(String(cString: strerror(errno)))") }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = errno
            close(fd)
            throw PipeError(.io, "cannot stat \(path): \(String(cString: strerror(e)))")
        }
        #if os(Linux)
        let flags = MAP_PRIVATE
        #else
        let flags = MAP_PRIVATE
        #endif
        do {
            bytes = try Self.map(fd, count: Int(st.st_size), protection: PROT_READ | PROT_WRITE, flags: flags, path: path)
        } catch {
            close(fd)
            throw error
        }
        self.path = path
        descriptor = fd
    }

    /// Creates (or truncates) `path` with `byteCount` bytes reserved and maps it for writing.
    init(creating path: String, byteCount: Int) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw PipeError(.io, "cannot create \(path): \(String(cString: strerror(errno)))") }
        do {
            if byteCount > 0 {
                #if os(Linux)
                let rc = posix_fallocate(fd, 0, off_t(byteCount))
                if rc != 0 { throw PipeError(.io, "cannot reserve \(byteCount) bytes for \(path): \(String(cString: strerror(rc)))") }
                #else
                if ftruncate(fd, off_t(byteCount)) != 0 {
                    throw PipeError(.io, "cannot size \(path): \(String(cString: strerror(errno)))")
                }
                #endif
            }
            bytes = try Self.map(fd, count: byteCount, protection: PROT_READ | PROT_WRITE, flags: MAP_SHARED, path: path)
        } catch {
            close(fd)
            unlink(path)
            throw error
        }
        self.path = path
        descriptor = fd
    }

    private static func map(_ fd: Int32, count: Int, protection: Int32, flags: Int32, path: String) throws -> UnsafeMutableRawBufferPointer {
        guard count > 0 else { return UnsafeMutableRawBufferPointer(start: nil, count: 0) }
        guard let address = mmap(nil, count, protection, flags, fd, 0), address != MAP_FAILED else {
            throw PipeError(.io, "cannot map \(path) (\(count) bytes): \(String(cString: strerror(errno)))")
        }
        return UnsafeMutableRawBufferPointer(start: address, count: count)
    }

    /// Cuts the file to its first `length` bytes (the mapping keeps its size; bytes past `length`
    /// must not be touched afterwards).
    func truncate(to length: Int) throws {
        precondition(length >= 0 && length <= bytes.count, "truncating \(path) to \(length) of \(bytes.count) bytes")
        if length < bytes.count, ftruncate(descriptor, off_t(length)) != 0 {
            throw PipeError(.io, "cannot truncate \(path): \(String(cString: strerror(errno)))")
        }
    }

    deinit {
        if let base = bytes.baseAddress { munmap(base, bytes.count) }
        close(descriptor)
    }
}
