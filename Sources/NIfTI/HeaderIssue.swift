/// A problem found by checking a header, with how much it matters (nibabel's batteryrunner idea).
public struct HeaderIssue: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable, Comparable {
        case info, warning, error

        public static func < (a: Severity, b: Severity) -> Bool {
            let order: [Severity] = [.info, .warning, .error]
            return order.firstIndex(of: a)! < order.firstIndex(of: b)!
        }
    }

    public var severity: Severity
    /// The header field concerned.
    public var field: String
    public var message: String

    public init(_ severity: Severity, _ field: String, _ message: String) {
        self.severity = severity
        self.field = field
        self.message = message
    }

    public var description: String { "\(severity.rawValue): \(field): \(message)" }
}
