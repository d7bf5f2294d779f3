/// Receives run events (journal, progress display, JSON event stream).
public protocol RunObserver: Sendable {
    /// Handles one event; called from one thread at a time, in event order.
    func handle(_ event: RunEvent)
}
