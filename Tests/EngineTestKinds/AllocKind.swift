import Foundation
import PipelineEngine

/// `test.alloc` (per scan): touches `mb` MiB of memory and holds it for `hold_ms` milliseconds
/// (long enough for a memory-enforcing scheduler to sample it), then copies its input.
struct AllocKind: TypedStageKind {
    struct Parameters: Sendable, Equatable { var mb: Int, holdMs: Int }

    let name = "test.alloc"
    let version = 1
    let fanOut = FanOut.perScan
    var upstreamCount: ClosedRange<Int> { 1...1 }

    func parameters(_ p: ParameterReader) -> Parameters {
        Parameters(mb: p.integer("mb", default: 1, range: 1...65_536), holdMs: p.integer("hold_ms", default: 0, range: 0...600_000))
    }

    func run(_ p: Parameters, _ context: TaskContext) throws {
        TestSupport.recordExecution(name, context)
        let values = try TestSupport.readInput(TestSupport.singleInput(context))
        let count = p.mb << 20
        let block = UnsafeMutablePointer<UInt8>.allocate(capacity: count)
        defer { block.deallocate() }
        for i in stride(from: 0, to: count, by: 4096) { block[i] = UInt8(truncatingIfNeeded: i >> 12) }
        let deadline = Date().addingTimeInterval(Double(p.holdMs) / 1000)
        while Date() < deadline {
            try context.checkCancellation()
            usleep(10_000)
        }
        try context.writeOutput("\(context.scope.label).txt", TestSupport.format(values))
    }
}
