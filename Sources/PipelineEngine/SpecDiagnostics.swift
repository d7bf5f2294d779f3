/// Collects spec problems, each as `file:line:col json.path: message`, and throws them together.
public final class SpecDiagnostics: @unchecked Sendable {
    /// The problems found so far, in order.
    public private(set) var issues: [String] = []

    /// Creates an empty collection.
    public init() {}

    /// Records a problem at `location` for the JSON `path`.
    public func report(_ location: SourceLocation, _ path: String, _ message: String) {
        issues.append("\(location) \(path): \(message)")
        paths.append(path)
    }

    /// The JSON path of each problem, in order.
    private var paths: [String] = []

    /// The names of the stages the problems so far concern (`stages.NAME…`), or `nil` when one
    /// concerns something else (the cohort, a folder, the stages section as a whole).
    func stagesConcerned() -> Set<String>? {
        var names: Set<String> = []
        for path in paths {
            guard path.hasPrefix("stages.") else { return nil }
            names.insert(String(path.dropFirst(7).prefix { $0 != "." && $0 != "[" }))
        }
        return names
    }

    /// Throws a ``PipeError`` with code `.invalidSpec` listing every problem, if there are any.
    public func throwIfAny() throws {
        if !issues.isEmpty { throw PipeError(.invalidSpec, issues.joined(separator: "\n")) }
    }
}
