/// An error from the group-statistics kernels: a code, a message, and an optional cause.
public struct GLMError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The design has rank < number of columns (collinear or empty columns).
        case rankDeficientDesign
        /// Shapes of design, data, contrast or mask do not agree.
        case shapeMismatch
        /// Too few samples for the residual degrees of freedom (df ≤ 0).
        case noResidualDegreesOfFreedom
        /// A contrast is zero, or an F contrast matrix is rank deficient.
        case invalidContrast
        /// An option is out of range (e.g. permutations < 0, p not in (0, 1)).
        case invalidOption
    }

    public var code: Code
    public var message: String
    public var cause: String?

    public init(_ code: Code, _ message: String, cause: String? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String { "\(code.rawValue): \(message)" + (cause.map { " (\($0))" } ?? "") }
}
