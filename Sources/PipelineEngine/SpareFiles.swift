import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Large dropped files kept for reuse as the next large mapped output, in the cache's `tmp/`
/// folder as `spare.<pid>.<random>`.
///
/// A `keep: false` stage's series (191 MB per full-size scan) is written, read once and dropped,
/// and the next task's series is a new file of about the same size. Deleting one file and
/// creating the next returns the pages to the system and takes fresh ones: the kernel allocates
/// and zeroes them, reclaiming page cache when memory is full, and on a virtual machine that
/// hands freed memory back to its host (free page reporting), the host faults each page in again
/// on first touch, which measured 1.1–1.8 s per 191 MB on the machine of `benchmarks/README.md`
/// against 0.03 s for pages freed a moment before. Renaming the dropped file here and mapping it
/// again as the next output keeps its pages in the page cache: the output is cleared with one
/// `memset` over memory that is already there.
///
/// - Only executors on this machine take spares (``TaskRunner`` with `sameMachine`): elsewhere
///   the pages of the file are in another node's page cache, and writing through a mapping would
///   first read its old contents back over the network.
/// - A spare whose pages are no longer all in memory (evicted after writeback) is not worth
///   reusing either: its old contents would be read from the disk. It is cut to 0 bytes and
///   used as a new file.
/// - A reused output reads as zeros, as a new one does (``MappedFile/init(creating:byteCount:spares:)``).
/// - A run keeps at most as many spares as it runs tasks at once, and deletes them when it ends;
///   a killed run's spares go with the rest of `tmp/` when the next run starts.
public struct SpareFiles: Sendable {
    /// The cache's `tmp/` folder.
    public let directory: String
    /// Files smaller than this are deleted, not kept: their pages cost little to allocate.
    public let minimumBytes: Int64
    static let prefix = "spare."

    public init(directory: String, minimumBytes: Int64 = 32 << 20) {
        self.directory = directory
        self.minimumBytes = minimumBytes
    }

    /// The spares present.
    var names: [String] { FileSystem.list(directory).filter { $0.hasPrefix(Self.prefix) } }

    /// Keeps the file at `path` (in `directory`, no longer part of any entry) as a spare if it is
    /// large enough and fewer than `limit` spares are kept: a `stat`, a listing of `tmp/` and a
    /// rename, quick enough for a run's control loop, so the task it starts next finds the spare.
    /// - Returns: whether it was kept (else the caller deletes it).
    func keep(_ path: String, limit: Int) -> Bool {
        guard limit > 0, let size = try? FileSystem.identity(of: path)?.size, size >= minimumBytes, names.count < limit else { return false }
        return (try? FileSystem.rename(path, directory + "/" + Self.prefix + "\(getpid()).\(UInt64.random(in: 0...UInt64.max))")) != nil
    }

    /// Moves a spare to `path` (rename: each spare goes to one taker, across processes).
    /// - Returns: whether one was taken.
    func take(to path: String) -> Bool {
        for name in names where (try? FileSystem.rename(directory + "/" + name, path)) != nil { return true }
        return false
    }

    /// Deletes every spare (at the end of a run, which holds the cache lock).
    func removeAll() {
        for name in names { FileSystem.remove(directory + "/" + name) }
    }

    /// Whether every page of the first `bytes` bytes of the open file `fd` is in memory.
    static func resident(_ fd: Int32, bytes: Int) -> Bool {
        guard bytes > 0 else { return true }
        #if os(Linux)
        guard let address = mmap(nil, bytes, PROT_READ, MAP_SHARED, fd, 0), address != MAP_FAILED else { return false }
        defer { munmap(address, bytes) }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        var pages = [UInt8](repeating: 0, count: (bytes + page - 1) / page)
        guard mincore(address, bytes, &pages) == 0 else { return false }
        return pages.allSatisfy { $0 & 1 != 0 }
        #else
        return false
        #endif
    }
}
