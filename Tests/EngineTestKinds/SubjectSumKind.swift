import Foundation
import PipelineEngine

/// `test.subject` (per subject): one line per scan of the subject: "<scan> <sum of its values>".
struct SubjectSumKind: StageKind {
    let name = "test.subject"
    let version = 1
    let fanOut = FanOut.perSubject
    var upstreamCount: ClosedRange<Int> { 1...1 }

    func readParameters(_ p: ParameterReader) {}

    func run(_ context: TaskContext) throws {
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
