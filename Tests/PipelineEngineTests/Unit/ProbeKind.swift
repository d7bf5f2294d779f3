import Foundation
@testable import PipelineEngine

/// A per-scan kind that blocks its thread for a while and records how many tasks run at once.
struct ProbeKind: TypedStageKind {
    struct Parameters: Sendable, Equatable { var ms: Int }

    let name = "probe"
    let version = 1
    let fanOut = FanOut.perScan
    let probe: Locked<(current: Int, peak: Int)>
    let estimate: UInt64

    func parameters(_ p: ParameterReader) -> Parameters { Parameters(ms: p.integer("ms", default: 40)) }
    func memoryEstimate(_ p: Parameters, scope: Scope) -> UInt64 { estimate }

    func run(_ p: Parameters, _ context: TaskContext) throws {
        probe.withLock { $0.current += 1; $0.peak = max($0.peak, $0.current) }
        defer { probe.withLock { $0.current -= 1 } }
        usleep(useconds_t(p.ms * 1000))   // blocks the thread, like CPU-heavy work
        try context.writeOutput("\(context.scope.label).txt", Array(context.scope.label.utf8))
    }
}

