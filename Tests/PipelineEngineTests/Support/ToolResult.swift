import Foundation

/// The outcome of one run of the test tool.
struct ToolResult {
    var status: Int32
    var stdout: String
    var stderr: String
    /// Whether the process was killed by a signal.
    var signalled: Bool
    /// Whether the tool was killed for running past its deadline.
    var timedOut = false
}

