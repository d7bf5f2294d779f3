/// A position in a spec: file, 1-based line and 1-based column (in bytes).
///
/// A location with `line == 0` names a source that has no lines, such as a `--set` argument.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    /// The file name as shown to the user (the spec's last path component, or `--set ...`).
    public var file: String
    /// 1-based line, or 0 when not applicable.
    public var line: Int
    /// 1-based column, or 0 when not applicable.
    public var column: Int

    /// Creates a location.
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String {
        line == 0 ? file : "\(file):\(line):\(column)"
    }
}
