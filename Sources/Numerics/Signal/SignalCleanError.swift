/// An error of the signal kernels: a code, a message for people, and an optional cause.
///
/// The command layer maps codes to exit codes; kernels never exit or print.
public struct SignalCleanError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Code: String, Sendable {
        /// A parameter is out of range (cut-off, TR, order, FWHM, threshold, ...).
        case invalidParameter
        /// Array shapes disagree (confound rows ≠ signal rows, mask length ≠ T, ...).
        case shapeMismatch
        /// The series is too short for the filter; the message names the minimum length.
        case seriesTooShort
        /// The sample mask removes every volume (nilearn `AllVolumesRemovedError`).
        case allVolumesRemoved
    }

    public let code: Code
    public let message: String
    /// An underlying error, if any.
    public let cause: String?

    public init(_ code: Code, _ message: String, cause: String? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String { cause.map { "\(message) (\($0))" } ?? message }
}
