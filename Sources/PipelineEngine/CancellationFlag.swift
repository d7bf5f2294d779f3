/// A thread-safe flag that a running task body polls to stop early when the run is cancelled.
public final class CancellationFlag: Sendable {
    private let state = Locked(false)

    /// Creates an unset flag.
    public init() {}

    /// Whether cancellation was requested.
    public var isCancelled: Bool { state.current }

    /// Requests cancellation.
    public func cancel() { state.withLock { $0 = true } }
}
