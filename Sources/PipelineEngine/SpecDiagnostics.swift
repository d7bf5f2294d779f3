/// Collects spec problems, each as `file:line:col json.path: message`, and throws them together.
public final class SpecDiagnostics: @unchecked Sendable {
    /// The problems found so far, in order.
    public private(set) var issues: [String] = []

    /// Creates an empty collection.
    public init() {}

    /// Records a problem at `location` for the JSON `path`.
    public func report(_ location: SourceLocation, _ path: String, _ message: String) {
        issues.append("\(location) \(path): \(message)")
    }

    /// Throws a ``PipeError`` with code `.invalidSpec` listing every problem, if there are any.
    public func throwIfAny() throws {
        if !issues.isEmpty { throw PipeError(.invalidSpec, issues.joined(separator: "\n")) }
    }
}
