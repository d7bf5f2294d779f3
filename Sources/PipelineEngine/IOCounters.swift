/// Counts bytes the engine reads from source files to hash them, over the life of the process.
/// A no-op rerun must leave it at zero. (Bytes read by tasks are counted per run, in
/// ``RunSummary/sourceBytesRead``.)
public enum IOCounters {
    private static let hashed = Locked(UInt64(0))

    /// Bytes read to compute content digests of source files.
    public static var bytesHashed: UInt64 { hashed.current }

    static func addHashed(_ n: Int) { hashed.withLock { $0 += UInt64(n) } }
    /// Resets the counter (tests).
    public static func reset() { hashed.withLock { $0 = 0 } }
}
