import Foundation
@testable import PipelineEngine

/// A per-scan kind whose bodies block their threads at a ``ProbeGate`` until a given number of them
/// run at once, and which records the largest number that did.
struct ProbeKind: TypedStageKind {
    struct Parameters: Sendable, Equatable {}

    let name = "probe"
    let version = 1
    let fanOut = FanOut.perScan
    let gate: ProbeGate
    let estimate: UInt64

    func parameters(_ p: ParameterReader) -> Parameters { Parameters() }
    func memoryEstimate(_ p: Parameters, scope: Scope) -> UInt64 { estimate }

    func run(_ p: Parameters, _ context: TaskContext) throws {
        try gate.enter()   // blocks the thread, like CPU-heavy work
        defer { gate.leave() }
        try context.writeOutput("\(context.scope.label).txt", Array(context.scope.label.utf8))
    }
}

/// A barrier that opens for good once `target` bodies are inside at the same time; a body that
/// waits longer than `timeout` throws instead, so a scheduler that never runs `target` tasks at
/// once fails the test rather than hanging it. Records the peak number of bodies inside.
final class ProbeGate: @unchecked Sendable {
    let target: Int
    let timeout: TimeInterval
    private let condition = NSCondition()
    private var inside = 0
    private var peakInside = 0
    private var open = false

    init(target: Int, timeout: TimeInterval = 60) {
        self.target = target
        self.timeout = timeout
    }

    /// The largest number of bodies that were inside at once.
    var peak: Int { condition.lock(); defer { condition.unlock() }; return peakInside }

    /// Enters, then waits until `target` bodies are inside (or were, once).
    /// - Throws: ``PipeError`` `.taskFailed` when that does not happen within `timeout`.
    func enter() throws {
        condition.lock()
        defer { condition.unlock() }
        inside += 1
        peakInside = max(peakInside, inside)
        if inside >= target { open = true; condition.broadcast() }
        let deadline = Date().addingTimeInterval(timeout)
        while !open {
            guard condition.wait(until: deadline) || open else {
                inside -= 1
                throw PipeError(.taskFailed, "probe: \(peakInside) of \(target) tasks ran at once within \(timeout) s")
            }
        }
    }

    /// Leaves (after a successful ``enter()``).
    func leave() {
        condition.lock()
        inside -= 1
        condition.unlock()
    }
}
