import Foundation
import PipelineEngine

/// Turns engine errors into messages on stderr and exit codes (the only place that does).
enum ErrorReporting {
    /// 0 ok, 1 task failure, 2 invalid spec or usage, 3 lock held, 130 interrupted.
    static func exitCode(for error: PipeError) -> Int32 {
        switch error.code {
        case .invalidSpec, .usage: return 2
        case .lockHeld: return 3
        case .interrupted: return 130
        case .taskFailed, .io, .cache: return 1
        }
    }

    static func print(_ error: PipeError) {
        let prefix: String
        switch error.code {
        case .invalidSpec: prefix = "invalid spec"
        case .usage: prefix = "usage"
        case .lockHeld: prefix = "lock held"
        case .interrupted: prefix = "interrupted"
        case .taskFailed: prefix = "failed"
        case .io: prefix = "i/o error"
        case .cache: prefix = "cache error"
        }
        let lines = error.description.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.count > 1 {
            printLine("pipe: \(prefix):")
            for l in lines { printLine("  \(l)") }
        } else {
            printLine("pipe: \(prefix): \(error.description)")
        }
    }

    static func printLine(_ s: String) {
        FileHandle.standardError.write(Data((s + "\n").utf8))
    }
}
