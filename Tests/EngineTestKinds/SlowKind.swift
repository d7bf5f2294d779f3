import Foundation
import PipelineEngine

/// `test.slow` (per scan): sleeps `ms` milliseconds (polling cancellation), then, with `gate` (a
/// path), waits until that file exists, so a test decides when the task may finish; writes the
/// output in several chunks with pauses (so kills land mid-write), and copies its input plus `salt`.
/// `gate` is recorded only when given, so the keys of specs without it do not change.
struct SlowKind: TypedStageKind {
    struct Parameters: Sendable, Equatable { var ms: Int, salt: Double, gate: String }

    let name = "test.slow"
    let version = 1
    let fanOut = FanOut.perScan
    var upstreamCount: ClosedRange<Int> { 1...1 }

    func parameters(_ p: ParameterReader) -> Parameters {
        Parameters(ms: p.integer("ms", default: 50, range: 0...600_000), salt: p.number("salt", default: 0),
                   gate: p.value("gate")?.stringValue ?? "")
    }

    func run(_ p: Parameters, _ context: TaskContext) throws {
        TestSupport.recordExecution(name, context)
        let ms = p.ms, salt = p.salt
        let values = try TestSupport.readInput(TestSupport.singleInput(context)).map { $0 + salt }
        let deadline = Date().addingTimeInterval(Double(ms) / 2000)
        while Date() < deadline {
            try context.checkCancellation()
            usleep(2_000)
        }
        while !p.gate.isEmpty && !FileManager.default.fileExists(atPath: p.gate) {
            try context.checkCancellation()
            usleep(2_000)
        }
        // Write in pieces, pausing between them.
        let path = context.outputDirectory.appendingPathComponent("\(context.scope.label).txt").path
        let bytes = TestSupport.format(values)
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? h.close() }
        let chunk = max(1, bytes.count / 4)
        var off = 0
        let pause = useconds_t(ms * 1000 / 8)
        while off < bytes.count {
            try context.checkCancellation()
            h.write(Data(bytes[off..<min(bytes.count, off + chunk)]))
            off += chunk
            usleep(pause)
        }
    }
}
