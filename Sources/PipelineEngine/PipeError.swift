import Foundation

/// An error of the engine: a machine-readable code, a human message, and an optional cause.
///
/// Errors become exit codes only in the command layer (`PipeCLI`): see ``PipeError/Code``.
public struct PipeError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, coarsely; the command layer maps it to an exit code.
    public enum Code: String, Sendable {
        /// The study spec (or a `--set` override) is malformed or inconsistent.
        case invalidSpec
        /// The command line is malformed.
        case usage
        /// Another process holds the cache lock.
        case lockHeld
        /// One or more tasks failed.
        case taskFailed
        /// The run was interrupted (SIGINT/SIGTERM).
        case interrupted
        /// A file-system operation failed.
        case io
        /// A cache entry or task description is missing or corrupt.
        case cache
    }

    /// The kind of failure.
    public var code: Code
    /// A message for a person, already including file:line:column where relevant.
    public var message: String
    /// The underlying error, if any.
    public var cause: (any Error & Sendable)?

    /// Creates an error.
    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        if let cause { return "\(message) (\(cause))" }
        return message
    }
}
