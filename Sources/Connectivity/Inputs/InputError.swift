/// A problem with a study's input files: which file, which field (column, key, label), what was
/// found and what was expected.
public struct InputError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var field: String?
    public var message: String

    public init(path: String, field: String? = nil, _ message: String) {
        self.path = path
        self.field = field
        self.message = message
    }

    public var description: String {
        if let field { return "\(path): \(field): \(message)" }
        return "\(path): \(message)"
    }
}
