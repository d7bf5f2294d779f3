import Foundation
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

        /// Whether `other` is the same version of a source file seen from possibly another host:
        /// inode, size, mtime and ctime agree (the device number is ignored, since a network file
        /// system mounts under another device number on each node). Any write changes the ctime,
        /// which no user can set.
        public func sameVersion(as other: FileIdentity?) -> Bool {
            guard let other else { return false }
            return inode == other.inode && size == other.size && mtimeNs == other.mtimeNs && ctimeNs == other.ctimeNs
        }
    }

    /// What a path names, for sources and specs that must be regular files.
    public enum PathKind: Sendable, Equatable {
        /// A regular file (after following symlinks).
        case regular(FileIdentity)
        /// Nothing there (or a dangling symlink).
        case missing
        /// A symlink loop (ELOOP).
        case symlinkLoop
        /// Something other than a regular file: "a directory", "a FIFO", "a device", "a socket".
        case notRegular(String)
        /// stat failed otherwise (permission, I/O): the reason.
        case unreadable(String)
    }

    /// Classifies `path` with stat(2) (which never blocks, even on a FIFO).
    public static func kind(of path: String) -> PathKind {
        var st = stat()
        if stat(path, &st) != 0 {
            let e = errno
            if e == ENOENT || e == ENOTDIR { return .missing }
            if e == ELOOP { return .symlinkLoop }
            return .unreadable(String(cString: strerror(e)))
        }
        if let other = describeNonRegular(st.st_mode) { return .notRegular(other) }
        return .regular(identity(of: st))
    }

    /// "a directory", "a FIFO", ... for a mode that is not a regular file; `nil` for a regular file.
    static func describeNonRegular(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a FIFO"
        case S_IFCHR, S_IFBLK: return "a device"
        case S_IFSOCK: return "a socket"
        default: return "not a regular file"
        }
    }

    /// The identity recorded in a `stat` result.
    static func identity(of st: stat) -> FileIdentity {
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

    /// Opens `path` for reading without blocking on a FIFO, and refuses anything but a regular
    /// file (a FIFO, a device such as /dev/zero, a directory) and files over `maxBytes`.
    /// - Returns: the descriptor (close-on-exec) and the file's size.
    static func openRegular(_ path: String, maxBytes: Int64? = nil) throws -> (fd: Int32, size: Int64) {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            if e == ELOOP { throw PipeError(.io, "cannot open \(path): a symlink loop") }
            throw PipeError(.io, "cannot open \(path): \(String(cString: strerror(e)))")
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = errno
            close(fd)
            throw PipeError(.io, "cannot stat \(path): \(String(cString: strerror(e)))")
        }
        if let other = describeNonRegular(st.st_mode) {
            close(fd)
            throw PipeError(.io, "\(path) is \(other), not a regular file")
        }
        if let maxBytes, Int64(st.st_size) > maxBytes {
            close(fd)
            throw PipeError(.io, "\(path) is \(st.st_size) bytes, more than the \(maxBytes >> 20) MiB allowed")
        }
        // Regular files ignore O_NONBLOCK, but clear it so nothing downstream is surprised.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return (fd, Int64(st.st_size))
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
        return identity(of: st)
    }

    /// `path` with symlinks resolved in its longest existing prefix (the rest appended as it is),
    /// for comparing folders that may not exist yet.
    public static func resolvedPath(_ path: String) -> String {
        var head = URL(fileURLWithPath: path).standardizedFileURL.path
        var tail: [String] = []
        while head != "/" && !exists(head) {
            tail.insert((head as NSString).lastPathComponent, at: 0)
            head = (head as NSString).deletingLastPathComponent
        }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let resolved = realpath(head, &buffer).map { String(cString: $0) } ?? head
        return tail.reduce(resolved) { $0 == "/" ? "/" + $1 : $0 + "/" + $1 }
    }

    /// `path` without "." and ".." components or doubled slashes (as `URL.standardizedFileURL`,
    /// lexically; no symlinks resolved). A path with none of them is returned as it is, without
    /// building a URL: the planner asks this of every source file.
    public static func standardized(_ path: String) -> String {
        // One pass over the bytes: a component that is empty, "." or ".." needs standardizing.
        var clean = path.utf8.first == UInt8(ascii: "/")
        var component = 0, dots = 0
        for b in path.utf8.dropFirst() where clean {
            if b == UInt8(ascii: "/") {
                if component == 0 || component == dots && dots <= 2 { clean = false }
                component = 0; dots = 0
            } else {
                component += 1
                if b == UInt8(ascii: ".") { dots += 1 }
            }
        }
        if clean && path.utf8.count > 1 && (component == 0 || component == dots && dots <= 2) { clean = false }
        return clean ? path : URL(fileURLWithPath: path).standardizedFileURL.path
    }

    /// Whether `inner` is `outer` or lies inside it (both absolute, resolved paths).
    public static func isSameOrInside(_ inner: String, _ outer: String) -> Bool {
        inner == outer || outer == "/" || inner.hasPrefix(outer + "/")
    }

    /// Whether `path` is the root of a mounted file system (its device differs from its parent's).
    public static func isMountPoint(_ path: String) -> Bool {
        var a = stat(), b = stat()
        guard stat(path, &a) == 0, stat(path + "/..", &b) == 0 else { return false }
        return a.st_dev != b.st_dev || a.st_ino == b.st_ino
    }

    /// Whether `path` exists (any type).
    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    /// Reads a whole regular file; refuses a FIFO or a device, and a file over `maxBytes`.
    public static func read(_ path: String, maxBytes: Int64? = nil) throws -> [UInt8] {
        let (fd, size) = try openRegular(path, maxBytes: maxBytes)
        defer { close(fd) }
        let hint = Int(size)
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
    /// Refuses anything but a regular file (hashing /dev/zero would never end).
    public static func sha256(ofFile path: String, counted: Bool = false) throws -> String {
        let (fd, _) = try openRegular(path)
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
        let tmp = path + temporarySuffix()
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
        if mkdir(path, 0o755) == 0 { return }
        var e = errno
        if e == EEXIST {
            var st = stat()
            if stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR { return }
            throw PipeError(.io, "cannot create directory \(path): a file of that name exists")
        }
        if e == ENOENT {
            let parent = (path as NSString).deletingLastPathComponent
            if !parent.isEmpty && parent != path {
                try makeDirectory(parent)
                if mkdir(path, 0o755) == 0 { return }
                e = errno
                if e == EEXIST { return try makeDirectory(path) }
            }
        }
        throw PipeError(.io, "cannot create directory \(path): \(String(cString: strerror(e)))")
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
        let tmp = destination + temporarySuffix()
        do {
            if link(source, tmp) != 0 {
                let bytes = try read(source)
                try write(bytes, to: tmp)
            }
            try rename(tmp, destination)
        } catch {
            unlink(tmp)
            throw error
        }
    }

    /// The suffix of temporary siblings: `.tmp-<pid>-<random>`.
    static func temporarySuffix() -> String { ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))" }

    /// Whether `name` is a temporary sibling left by a process that no longer exists
    /// (`<name>.tmp-<pid>-<random>`, as ``linkOrCopy(_:to:)`` and ``writeAtomically(_:to:sync:)`` make).
    public static func isStaleTemporary(_ name: String) -> Bool {
        // The last ".tmp-", found on the UTF-8 bytes (a whole output folder is scanned per stage).
        let bytes = Array(name.utf8), marker = Array(".tmp-".utf8)
        guard bytes.count > marker.count,
              let at = stride(from: bytes.count - marker.count, through: 1, by: -1).first(where: { bytes[$0..<($0 + marker.count)].elementsEqual(marker) })
        else { return false }
        let parts = bytes[(at + marker.count)...].split(separator: UInt8(ascii: "-"))
        guard parts.count == 2, let pid = Int32(String(decoding: parts[0], as: UTF8.self)),
              UInt32(String(decoding: parts[1], as: UTF8.self)) != nil else { return false }
        return pid != getpid() && !processExists(pid)
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

    /// User + system CPU seconds of this process so far (every thread).
    public static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF_VALUE, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}

