import Foundation
import Crypto
#if canImport(Glibc)
import Glibc
private let posixRead = Glibc.read
private let posixWrite = Glibc.write
private let posixRename = Glibc.rename
#elseif canImport(Darwin)
import Darwin
private let posixRead = Darwin.read
private let posixWrite = Darwin.write
private let posixRename = Darwin.rename
#endif

#if canImport(Glibc)
private let RUSAGE_SELF_VALUE = __rusage_who_t(RUSAGE_SELF.rawValue)
#else
private let RUSAGE_SELF_VALUE = RUSAGE_SELF
#endif

/// Thin, throwing wrappers over the POSIX calls the cache needs (stat, fsync, rename, link).
public enum FileSystem {
    /// The identity of a file's content version: device, inode, size and nanosecond mtime/ctime.
    public struct FileIdentity: Hashable, Sendable {
        public var device: UInt64
        public var inode: UInt64
        public var size: Int64
        public var mtimeNs: Int64
        public var ctimeNs: Int64

        /// Whether `other` is the same file with the same size and modification time (the change
        /// time is ignored: publishing changes the mode).
        public func sameContent(as other: FileIdentity?) -> Bool {
            guard let other else { return false }
            return device == other.device && inode == other.inode && size == other.size && mtimeNs == other.mtimeNs
        }
    }

    /// Turns a C return code into a `Result` with an errno-derived error.
    static func check(_ rc: Int32, _ what: @autoclosure () -> String) -> Result<Int32, PipeError> {
        if rc >= 0 { return .success(rc) }
        let e = errno
        return .failure(PipeError(.io, "\(what()): \(String(cString: strerror(e)))"))
    }

    /// stat(2) of `path`; `nil` if it does not exist.
    public static func identity(of path: String) throws -> FileIdentity? {
        var st = stat()
        if stat(path, &st) != 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw PipeError(.io, "cannot stat \(path): \(String(cString: strerror(errno)))")
        }
        #if canImport(Darwin)
        let m = Int64(st.st_mtimespec.tv_sec) * 1_000_000_000 + Int64(st.st_mtimespec.tv_nsec)
        let c = Int64(st.st_ctimespec.tv_sec) * 1_000_000_000 + Int64(st.st_ctimespec.tv_nsec)
        #else
        let m = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        let c = Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec)
        #endif
        return FileIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size),
                            mtimeNs: m, ctimeNs: c)
    }

    /// Whether `path` exists (any type).
    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    /// Reads a whole file.
    public static func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PipeError(.io, "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        let hint = fstat(fd, &st) == 0 ? Int(st.st_size) : 0
        // Read straight into the result, sized from fstat (+1 to see end of file in one call).
        var out = [UInt8](repeating: 0, count: max(hint + 1, 256))
        var count = 0
        while true {
            if count == out.count { out.append(contentsOf: [UInt8](repeating: 0, count: out.count)) }
            let n = out.withUnsafeMutableBytes { posixRead(fd, $0.baseAddress! + count, $0.count - count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw PipeError(.io, "cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            count += n
        }
        out.removeSubrange(count...)
        return out
    }

    /// SHA-256 of a file's content as lowercase hex, streaming; `counted` adds bytes to
    /// ``IOCounters/bytesHashed``.
    public static func sha256(ofFile path: String, counted: Bool = false) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PipeError(.io, "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var hasher = SHA256()
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buf.withUnsafeMutableBytes { posixRead(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw PipeError(.io, "cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            if counted { IOCounters.addHashed(n) }
            buf.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        return hex(hasher.finalize())
    }

    /// Lowercase hex of a digest.
    public static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let table: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for b in digest {
            out.append(table[Int(b >> 4)])
            out.append(table[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Writes `bytes` to `path` (creating or truncating) and fsyncs it.
    public static func write(_ bytes: [UInt8], to path: String, sync: Bool = true) throws {
        try bytes.withUnsafeBytes { try write($0, to: path, sync: sync) }
    }

    /// Writes the bytes of a buffer to `path` (creating or truncating) and fsyncs it unless `sync`
    /// is false; for large outputs already in memory, without copying them into an array first.
    public static func write(_ bytes: UnsafeRawBufferPointer, to path: String, sync: Bool = true) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw PipeError(.io, "cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var off = 0
        while off < bytes.count {
            let n = posixWrite(fd, bytes.baseAddress! + off, bytes.count - off)
            if n < 0 {
                if errno == EINTR { continue }
                throw PipeError(.io, "cannot write \(path): \(String(cString: strerror(errno)))")
            }
            off += n
        }
        if sync { _ = try check(fsync(fd), "fsync \(path)").get() }
    }

    /// Fills `buffer` from the start of the file at `path`; returns the bytes read (fewer when the
    /// file is shorter). For large inputs read straight into their final array.
    public static func read(_ path: String, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PipeError(.io, "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var count = 0
        while count < buffer.count {
            let n = posixRead(fd, buffer.baseAddress! + count, buffer.count - count)
            if n < 0 {
                if errno == EINTR { continue }
                throw PipeError(.io, "cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            count += n
        }
        return count
    }

    /// Writes `bytes` to a temporary sibling, fsyncs it (unless `sync` is false), and renames it over `path`.
    public static func writeAtomically(_ bytes: [UInt8], to path: String, sync: Bool = true) throws {
        let tmp = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            try write(bytes, to: tmp, sync: sync)
            try rename(tmp, path)
        } catch {
            unlink(tmp)
            throw error
        }
    }

    /// fsyncs an open-able file or directory.
    public static func fsyncPath(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PipeError(.io, "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        _ = try check(fsync(fd), "fsync \(path)").get()
    }

    /// rename(2).
    public static func rename(_ from: String, _ to: String) throws {
        _ = try check(posixRename(from, to), "rename \(from) -> \(to)").get()
    }

    /// Creates a directory and its parents.
    public static func makeDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw PipeError(.io, "cannot create directory \(path): \(error.localizedDescription)")
        }
    }

    /// Removes a file or a directory tree; no error if missing.
    public static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Names in a directory (unsorted); empty if missing.
    public static func list(_ path: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
    }

    /// Hard-links `source` at `destination` (atomically replacing it), copying if linking fails.
    public static func linkOrCopy(_ source: String, to destination: String) throws {
        let tmp = destination + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        if link(source, tmp) != 0 {
            let bytes = try read(source)
            try write(bytes, to: tmp)
        }
        do { try rename(tmp, destination) } catch { unlink(tmp); throw error }
    }

    /// Whether the process `pid` exists (kill(pid, 0) does not report ESRCH).
    public static func processExists(_ pid: Int32) -> Bool {
        if kill(pid, 0) == 0 { return true }
        return errno != ESRCH
    }

    /// Peak resident set size of this process (and finished children) in bytes.
    public static func peakRSS() -> UInt64 {
        var usage = rusage()
        getrusage(RUSAGE_SELF_VALUE, &usage)
        return UInt64(usage.ru_maxrss) * 1024
    }
}

