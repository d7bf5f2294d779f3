#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An owned POSIX file descriptor, closed when the handle is released.
///
/// System calls go through `check(_:)`, which turns a `-1` return into a `NIfTIError` of code `.io`
/// carrying `errno` and the path.
final class FileDescriptor {
    let fd: Int32
    let path: String

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { _ = close(fd) }

    /// Opens `path` for reading.
    static func openForReading(_ path: String) throws -> FileDescriptor {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw ioError(path, "cannot open for reading") }
        return FileDescriptor(fd: fd, path: path)
    }

    /// Creates (truncating) `path` for writing with mode 0644.
    static func createForWriting(_ path: String) throws -> FileDescriptor {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw ioError(path, "cannot create") }
        return FileDescriptor(fd: fd, path: path)
    }

    /// The file's size in bytes.
    func size() throws -> UInt64 {
        var st = stat()
        if fstat(fd, &st) != 0 { throw FileDescriptor.ioError(path, "cannot stat") }
        return UInt64(st.st_size)
    }

    /// Reads until `buffer` is full or the file ends; returns the number of bytes read.
    func readFully(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var done = 0
        while done < buffer.count {
            let n = read(fd, base + done, buffer.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileDescriptor.ioError(path, "read failed")
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Reads `count` bytes at `offset` without moving the file position; returns the bytes read.
    func pread(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var done = 0
        while done < buffer.count {
            let n = Glibc.pread(fd, base + done, buffer.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw FileDescriptor.ioError(path, "read failed")
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Moves the file position to `offset`.
    func seek(to offset: UInt64) throws {
        if lseek(fd, off_t(offset), SEEK_SET) < 0 { throw FileDescriptor.ioError(path, "seek failed") }
    }

    /// Writes all of `buffer`.
    func writeAll(_ buffer: UnsafeRawBufferPointer) throws {
        guard let base = buffer.baseAddress else { return }
        var done = 0
        while done < buffer.count {
            let n = write(fd, base + done, buffer.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileDescriptor.ioError(path, "write failed")
            }
            done += n
        }
    }

    /// Flushes the file's data and metadata to stable storage.
    func sync() throws {
        if fsync(fd) != 0 { throw FileDescriptor.ioError(path, "fsync failed") }
    }

    static func ioError(_ path: String, _ what: String) -> NIfTIError {
        let code = errno
        let reason = String(cString: strerror(code))
        return NIfTIError(.io, path: path, "\(what): \(reason)", errno: code)
    }
}
