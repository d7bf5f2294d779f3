import Foundation

/// One upstream task's outputs as seen by a running task.
public struct TaskInput: Sendable {
    /// The position of the upstream stage in this stage's `from` list.
    public var fromIndex: Int
    /// The upstream task's scope.
    public var scope: Scope
    /// Output files by name (read-only files in the cache).
    public var files: [String: URL]

    public init(fromIndex: Int, scope: Scope, files: [String: URL]) {
        self.fromIndex = fromIndex
        self.scope = scope
        self.files = files
    }
}
