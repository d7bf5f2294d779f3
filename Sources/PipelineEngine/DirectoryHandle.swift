import CThreadBudget
import Foundation
#if canImport(Glibc)
import Glibc
private let posixRead = Glibc.read
#elseif canImport(Darwin)
import Darwin
private let posixRead = Darwin.read
#endif

/// An open directory, for many lookups relative to it (`fstatat`/`openat`) without walking the
/// full path each time: the planner's and publisher's hot paths on large studies.
public final class DirectoryHandle: @unchecked Sendable {
    private let fd: Int32

    /// Opens `path`; `nil` if it cannot be opened.
    public init?(path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Whether `relative` exists.
    public func exists(_ relative: String) -> Bool {
        var st = stat()
        return fstatat(fd, relative, &st, 0) == 0
    }

    /// (device, inode) of `relative`, or `nil`.
    public func inode(_ relative: String) -> (UInt64, UInt64)? {
        var st = stat()
        guard fstatat(fd, relative, &st, 0) == 0 else { return nil }
        return (UInt64(st.st_dev), UInt64(st.st_ino))
    }

    /// The device, inode and birth time (nil where the file system records none) of `relative`,
    /// or `nil`: what tells a file from a new one given a deleted file's inode number.
    public func birthStamp(_ relative: String) -> (device: UInt64, inode: UInt64, birthNs: Int64?)? {
        var device: UInt64 = 0, inode: UInt64 = 0
        var birth: Int64 = 0
        guard pipe_stat_birth(fd, relative, &device, &inode, &birth) == 0 else { return nil }
        return (device, inode, birth == Int64.min ? nil : birth)
    }

    /// The identity (device, inode, size, times) of `relative`, or `nil`.
    public func identity(_ relative: String) -> FileSystem.FileIdentity? {
        var st = stat()
        guard fstatat(fd, relative, &st, 0) == 0 else { return nil }
        return FileSystem.identity(of: st)
    }

    /// The hard-link count of `relative` if it is a regular file (not following a symlink), or
    /// `nil` (a directory, a symlink, nothing).
    public func regularFileLinkCount(_ relative: String) -> UInt64? {
        var st = stat()
        guard fstatat(fd, relative, &st, AT_SYMLINK_NOFOLLOW) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return UInt64(st.st_nlink)
    }

    /// The whole content of `relative` (expected small), or `nil`.
    public func read(_ relative: String) -> [UInt8]? {
        let f = openat(fd, relative, O_RDONLY | O_CLOEXEC)
        guard f >= 0 else { return nil }
        defer { close(f) }
        var out = [UInt8](repeating: 0, count: 4096)
        var count = 0
        while true {
            if count == out.count { out.append(contentsOf: [UInt8](repeating: 0, count: out.count)) }
            let n = out.withUnsafeMutableBytes { posixRead(f, $0.baseAddress! + count, $0.count - count) }
            if n < 0 { if errno == EINTR { continue }; return nil }
            if n == 0 { break }
            count += n
        }
        out.removeSubrange(count...)
        return out
    }
}
