import Foundation
import PipelineEngine

/// `test.read` (per scan): reads `pattern` (with {subject}, {session}, {run}) and writes its numbers.
struct ReadKind: TypedStageKind {
    struct Parameters: Sendable, Equatable { var pattern: String }

    let name = "test.read"
    let version = 1
    let fanOut = FanOut.perScan
    var upstreamCount: ClosedRange<Int> { 0...0 }

    func parameters(_ p: ParameterReader) -> Parameters {
        let pattern = p.string("pattern")
        if !pattern.contains("{subject}") { p.report("pattern", "expected a path with {subject}, got \"\(pattern)\"") }
        return Parameters(pattern: pattern)
    }

    func sources(_ p: Parameters, scope: Scope) throws -> [String: String] {
        var values = ["subject": scope.subject ?? ""]
        if let s = scope.session { values["session"] = s }
        if let r = scope.run { values["run"] = r }
        let path = TestSupport.substitute(p.pattern, values)
        for token in ["{session}", "{run}"] where path.contains(token) {
            throw PipeError(.invalidSpec, "pattern uses \(token) but the cohort has none")
        }
        return ["data": path]
    }

    func run(_ p: Parameters, _ context: TaskContext) throws {
        TestSupport.recordExecution(name, context)
        try TestSupport.handshake(context)
        let values = try TestSupport.parseNumbers(TestSupport.readSourceCounted(context, "data"))
        try context.writeOutput("\(context.scope.label).txt", TestSupport.format(values))
    }
}
