/// A pointer (or other non-Sendable handle) handed to `DispatchQueue.concurrentPerform` tasks
/// that each touch a disjoint part of the memory it points to. Internal; the caller guarantees
/// the disjointness and that the memory outlives the tasks.
struct SignalUnsafeSendable<P>: @unchecked Sendable {
    let pointer: P
}
