import Foundation
import PipelineEngine

/// `test.subject` (per subject): one line per scan of the subject: "<scan> <sum of its values>".
struct SubjectSumKind: TypedStageKind {
    struct Parameters: Sendable, Equatable {}

    let name = "test.subject"
    let version = 1
    let fanOut = FanOut.perSubject
    var upstreamCount: ClosedRange<Int> { 1...1 }

    func parameters(_ p: ParameterReader) -> Parameters { Parameters() }

    func run(_ p: Parameters, _ context: TaskContext) throws {
        TestSupport.recordExecution(name, context)
        var out = ""
        for input in context.inputs {
            for name in input.files.keys.sorted() {
                let sum = try TestSupport.readInput(input.files[name]!).reduce(0, +)
                out += "\(input.scope.label) \(JSONValue.format(number: sum))\n"
            }
        }
        try context.writeOutput("\(context.scope.label).txt", Array(out.utf8))
    }
}
