/// Counts bytes the engine reads from source files (for hashing, or for kinds through
/// ``TaskContext/readSource(_:)``). A no-op rerun must leave both at zero.
public enum IOCounters {
    private static let state = Locked((hashed: UInt64(0), sourceRead: UInt64(0)))

    /// Bytes read to compute content digests of source files.
    public static var bytesHashed: UInt64 { state.current.hashed }
    /// Bytes of source files read by tasks.
    public static var sourceBytesRead: UInt64 { state.current.sourceRead }

    static func addHashed(_ n: Int) { state.withLock { $0.hashed += UInt64(n) } }
    static func addSourceRead(_ n: Int) { state.withLock { $0.sourceRead += UInt64(n) } }
    /// Resets both counters (tests).
    public static func reset() { state.withLock { $0 = (0, 0) } }
}
