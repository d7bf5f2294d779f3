import Foundation
import PipelineEngine

/// `test.clamp` (per scan): clamps values into [min, max]. Raising `max` above every value leaves
/// the output identical, which is how tests show early cutoff. Its implementation version can be
/// raised with `PIPE_TEST_CLAMP_VERSION`, to show that a new version reruns the stage.
struct ClampKind: TypedStageKind {
    struct Parameters: Sendable, Equatable { var min: Double, max: Double }

    let name = "test.clamp"
    let version = Int(ProcessInfo.processInfo.environment["PIPE_TEST_CLAMP_VERSION"] ?? "") ?? 1
    let fanOut = FanOut.perScan
    var upstreamCount: ClosedRange<Int> { 1...1 }

    func parameters(_ p: ParameterReader) -> Parameters {
        let lo = p.number("min", default: -1e9)
        let hi = p.number("max", default: 1e9)
        if lo > hi { p.report("max", "expected max >= min") }
        return Parameters(min: lo, max: hi)
    }

    func run(_ p: Parameters, _ context: TaskContext) throws {
        TestSupport.recordExecution(name, context)
        let lo = p.min, hi = p.max
        let values = try TestSupport.readInput(TestSupport.singleInput(context)).map { Swift.min(hi, Swift.max(lo, $0)) }
        try context.writeOutput("\(context.scope.label).txt", TestSupport.format(values))
    }
}
