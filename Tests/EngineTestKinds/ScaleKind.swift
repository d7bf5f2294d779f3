import Foundation
import PipelineEngine

/// `test.scale` (per scan): x * factor + offset. Fails on demand: `failSubjects`, `PIPE_TEST_FAIL`,
/// or the first attempt of each scope when `PIPE_TEST_FAIL_ONCE_DIR` is set.
struct ScaleKind: TypedStageKind {
    struct Parameters: Sendable, Equatable {
        var factor: Double, offset: Double, failSubjects: [String], band: [Double]
    }

    let name = "test.scale"
    let version = 1
    let fanOut = FanOut.perScan
    var upstreamCount: ClosedRange<Int> { 1...1 }

    func parameters(_ p: ParameterReader) -> Parameters {
        Parameters(factor: p.number("factor", default: 1), offset: p.number("offset", default: 0),
                   failSubjects: p.strings("failSubjects", default: []), band: p.numbers("band", count: 2, default: [0, 1]))
    }

    func run(_ p: Parameters, _ context: TaskContext) throws {
        TestSupport.recordExecution(name, context)
        let label = context.scope.label
        if p.failSubjects.contains(context.scope.subject ?? "") {
            throw PipeError(.taskFailed, "failing on purpose for \(label)")
        }
        try TestSupport.failIfListed(context)
        let env = ProcessInfo.processInfo.environment
        if let dir = env["PIPE_TEST_FAIL_ONCE_DIR"] {
            let marker = dir + "/" + label
            if !FileManager.default.fileExists(atPath: marker) {
                _ = FileManager.default.createFile(atPath: marker, contents: nil)
                throw PipeError(.taskFailed, "transient failure for \(label)")
            }
        }
        let factor = p.factor, offset = p.offset
        let values = try TestSupport.readInput(TestSupport.singleInput(context)).map { $0 * factor + offset }
        try context.writeOutput("\(label).txt", TestSupport.format(values))
    }
}
