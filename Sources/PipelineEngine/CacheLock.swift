import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The exclusive lock of one cache, held for a whole `pipe run` (or `cache gc`/`verify`).
///
/// Mechanism: `flock(LOCK_EX)` on `cache/lock` (released by the kernel when the holder dies, even
/// by SIGKILL), with the holder's pid, host, boot id and start time written into the file for
/// messages. The descriptor is close-on-exec so child processes never inherit the lock.
///
/// The flock alone decides who holds the lock. The holder record is only a hint for messages: a
/// run that has just taken the flock has not yet rewritten the record, so a record naming a dead
/// process says nothing about whether the lock is free, and is never grounds for a takeover. A
/// holder killed by SIGKILL loses its flock in the kernel, so the next run simply takes it (and
/// reports the record it found as the stale holder).
public final class CacheLock: @unchecked Sendable {
    private var fd: Int32
    /// The holder recorded by the previous run when it was not cleanly released, if any.
    public let previousStaleHolder: LockHolder?

    private init(fd: Int32, previous: LockHolder?) {
        self.fd = fd
        self.previousStaleHolder = previous
    }

    /// Takes the lock of `cache`.
    /// - Parameter wait: keep trying (every 200 ms) instead of failing when held.
    /// - Throws: ``PipeError`` `.lockHeld` naming the holder.
    public static func acquire(_ cache: CacheStore, wait: Bool, onWait: (@Sendable (LockHolder?) -> Void)? = nil) async throws -> CacheLock {
        try cache.ensureLayout()
        var announced = false
        while true {
            let fd = open(cache.lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw PipeError(.io, "cannot open \(cache.lockPath): \(String(cString: strerror(errno)))") }
            if flock(fd, LOCK_EX | LOCK_NB) == 0 {
                // Make sure the file we locked is still the lock file (not replaced meanwhile).
                var a = stat(), b = stat()
                if fstat(fd, &a) == 0, stat(cache.lockPath, &b) == 0, a.st_ino == b.st_ino {
                    let previous = readHolder(fd: fd)
                    let lock = CacheLock(fd: fd, previous: previous)
                    try lock.writeHolder(.current())
                    return lock
                }
                close(fd)
                continue
            }
            let holder = readHolder(fd: fd)
            close(fd)
            guard wait else {
                let who: String
                if let holder, !holder.isDeadOnThisMachine { who = holder.summary }
                else if let holder { who = "another process (the lock file still names pid \(holder.pid), which has exited)" }
                else { who = "another process" }
                throw PipeError(.lockHeld, "cache \(cache.root.path) is locked by \(who); use --wait to wait for it")
            }
            if !announced { onWait?(holder); announced = true }
            try await Task.sleep(nanoseconds: 200_000_000)
        }
    }

    private static func readHolder(fd: Int32) -> LockHolder? {
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0, let j = try? JSONValue.parse(bytes: Array(buf[0..<n])) else { return nil }
        return LockHolder(json: j)
    }

    private func writeHolder(_ h: LockHolder) throws {
        let bytes = Array((h.json.serialized() + "\n").utf8)
        ftruncate(fd, 0)
        _ = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        fsync(fd)
    }

    /// Releases the lock (clearing the holder record). Idempotent.
    public func release() {
        guard fd >= 0 else { return }
        ftruncate(fd, 0)
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    deinit { release() }
}
