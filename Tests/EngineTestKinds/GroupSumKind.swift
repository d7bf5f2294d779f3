import Foundation
import PipelineEngine

/// `test.sum` (group fan-in): one line per upstream file, "<from> <scope> <sum>", then
/// "<title> <sum>"; sums every numeric token of each file (labels are skipped).
struct GroupSumKind: TypedStageKind {
    struct Parameters: Sendable, Equatable { var title: String }

    let name = "test.sum"
    let version = 1
    let fanOut = FanOut.group
    var upstreamCount: ClosedRange<Int> { 1...4 }

    func parameters(_ p: ParameterReader) -> Parameters { Parameters(title: p.string("title", default: "total")) }

    func run(_ p: Parameters, _ context: TaskContext) throws {
        TestSupport.recordExecution(name, context)
        var out = ""
        var total = 0.0
        for input in context.inputs {
            for name in input.files.keys.sorted() {
                let text = String(decoding: try FileSystem.read(input.files[name]!.path), as: UTF8.self)
                let sum = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Double($0) }.reduce(0, +)
                total += sum
                out += "\(input.fromIndex) \(input.scope.label) \(JSONValue.format(number: sum))\n"
            }
        }
        out += "\(p.title) \(JSONValue.format(number: total))\n"
        try context.writeOutput("group.txt", Array(out.utf8))
    }
}
