import Foundation
import PipelineEngine

/// `test.annotate` (per scan): copies its input's numbers to `<scope>.txt` and writes their count
/// to `<scope>.note.txt`. With `keep: false` it drops the numbers and keeps the note, which is
/// all `test.notes` reads. It fails for the scopes in `PIPE_TEST_FAIL`, and adds
/// `PIPE_TEST_ANNOTATE_OFFSET` to the numbers (a kind that is not deterministic).
/// With `mapped_mb` > 0 it also fills a mapped output of that size, `<scope>.bulk.bin` (dropped
/// too), with a byte of its own after checking that it reads as zeros (it fails otherwise), and
/// writes the file's inode number to `<scope>.inode.txt` (kept): whether it reused a spare file.
struct AnnotateKind: TypedStageKind {
    struct Parameters: Sendable, Equatable { var mappedMB: Int }

    let name = "test.annotate"
    let version = 1
    let fanOut = FanOut.perScan
    var upstreamCount: ClosedRange<Int> { 1...1 }

    func parameters(_ p: ParameterReader) -> Parameters { Parameters(mappedMB: p.integer("mapped_mb", default: 0, range: 0...1024)) }

    func dropsOutput(named name: String) -> Bool { !name.hasSuffix(".note.txt") && !name.hasSuffix(".inode.txt") }

    func run(_ p: Parameters, _ context: TaskContext) throws {
        TestSupport.recordExecution(name, context)
        try TestSupport.failIfListed(context)
        let offset = Double(ProcessInfo.processInfo.environment["PIPE_TEST_ANNOTATE_OFFSET"] ?? "") ?? 0
        let values = try TestSupport.readInput(TestSupport.singleInput(context)).map { $0 + offset }
        try context.writeOutput("\(context.scope.label).txt", TestSupport.format(values))
        try context.writeOutput("\(context.scope.label).note.txt", TestSupport.format([Double(values.count)]))
        if p.mappedMB > 0 {
            let name = "\(context.scope.label).bulk.bin"
            let file = try context.mapOutput(name, byteCount: p.mappedMB << 20)
            let bytes = file.bytes.baseAddress!, count = file.bytes.count
            guard bytes.load(as: UInt8.self) == 0, memcmp(bytes, bytes + 1, count - 1) == 0 else {
                throw PipeError(.io, "the new mapped output \(name) does not read as zeros")
            }
            memset(bytes, Int32(1 + values.count % 255), count)
            try context.finishMappedOutput(file, length: count)
            let inode = try FileSystem.identity(of: context.outputDirectory.appendingPathComponent(name).path)!.inode
            try context.writeOutput("\(context.scope.label).inode.txt", Array(String(inode).utf8))
        }
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
