import Foundation
import PipelineEngine

/// `test.annotate` (per scan): copies its input's numbers to `<scope>.txt` and writes their count
/// to `<scope>.note.txt`. With `keep: false` it drops the numbers and keeps the note, which is
/// all `test.notes` reads. It fails for the scopes in `PIPE_TEST_FAIL`, and adds
/// `PIPE_TEST_ANNOTATE_OFFSET` to the numbers (a kind that is not deterministic).
struct AnnotateKind: TypedStageKind {
    struct Parameters: Sendable, Equatable {}

    let name = "test.annotate"
    let version = 1
    let fanOut = FanOut.perScan
    var upstreamCount: ClosedRange<Int> { 1...1 }

    func parameters(_ p: ParameterReader) -> Parameters { Parameters() }

    func dropsOutput(named name: String) -> Bool { !name.hasSuffix(".note.txt") }

    func run(_ p: Parameters, _ context: TaskContext) throws {
        TestSupport.recordExecution(name, context)
        try TestSupport.failIfListed(context)
        let offset = Double(ProcessInfo.processInfo.environment["PIPE_TEST_ANNOTATE_OFFSET"] ?? "") ?? 0
        let values = try TestSupport.readInput(TestSupport.singleInput(context)).map { $0 + offset }
        try context.writeOutput("\(context.scope.label).txt", TestSupport.format(values))
        try context.writeOutput("\(context.scope.label).note.txt", TestSupport.format([Double(values.count)]))
    }
}

/// `test.notes` (group fan-in): "<scope> <count>" per upstream note file (`*.note.txt`), then
/// "<title> <total>". It reads no other upstream file (a second upstream stage only orders it).
struct NotesKind: TypedStageKind {
    struct Parameters: Sendable, Equatable { var title: String }

    let name = "test.notes"
    let version = 1
    let fanOut = FanOut.group
    var upstreamCount: ClosedRange<Int> { 1...2 }

    func parameters(_ p: ParameterReader) -> Parameters { Parameters(title: p.string("title", default: "notes")) }

    func readsInput(named name: String) -> Bool { name.hasSuffix(".note.txt") }

    func run(_ p: Parameters, _ context: TaskContext) throws {
        TestSupport.recordExecution(name, context)
        var out = "", total = 0.0
        for input in context.inputs {
            for (name, url) in input.files.sorted(by: { $0.key < $1.key }) where readsInput(named: name) {
                let count = try TestSupport.readInput(url).reduce(0, +)
                total += count
                out += "\(input.scope.label) \(JSONValue.format(number: count))\n"
            }
        }
        out += "\(p.title) \(JSONValue.format(number: total))\n"
        try context.writeOutput("notes.txt", Array(out.utf8))
    }
}
