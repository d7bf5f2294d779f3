import CThreadBudget
import Foundation
import Synchronization

/// How many threads the kernels may use: the budget of the task running on this thread (the
/// engine sets it from the stage's `threads`), else, outside a task, every core. Kernels never
/// read the core count themselves, so a task given 2 CPUs on a 64-core node uses 2.
public enum ThreadBudget {
    /// The budget on this thread.
    public static var current: Int {
        let b = Int(pipe_thread_budget())
        return b > 0 ? b : ProcessInfo.processInfo.activeProcessorCount
    }

    /// Runs `body` with the budget set to `threads` on this thread, then restores it.
    public static func with<T>(_ threads: Int, _ body: () throws -> T) rethrows -> T {
        let saved = pipe_thread_budget()
        pipe_set_thread_budget(Int32(max(1, threads)))
        defer { pipe_set_thread_budget(saved) }
        return try body()
    }
}

/// Parallel loops within the thread budget.
public enum Parallel {
    /// Calls `body` for every index in `0..<iterations`, on at most `ThreadBudget.current` threads
    /// (this one included), each taking the indices `w, w + k, w + 2k, …`. Inside, the budget is 1,
    /// so nested kernels run serially. `body` must write only its own index's results.
    public static func forEach(_ iterations: Int, _ body: (Int) -> Void) {
        let k = min(iterations, ThreadBudget.current)
        guard k > 1 else {
            for i in 0..<iterations { body(i) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let box = UnsafeSendableClosure(body)
            DispatchQueue.concurrentPerform(iterations: k) { w in
                ThreadBudget.with(1) {
                    for i in Swift.stride(from: w, to: iterations, by: k) { box.body(i) }
                }
            }
        }
    }

    /// `values.map(transform)`, in parallel over blocks of `block` elements (`forEach`). The
    /// result is the same whatever the thread count: each element is transformed on its own.
    public static func map<T, R>(_ values: [T], block: Int = 4096, _ transform: (T) -> R) -> [R] {
        let n = values.count
        guard n > block, ThreadBudget.current > 1 else { return values.map(transform) }
        return values.withUnsafeBufferPointer { src in
            [R](unsafeUninitializedCapacity: n) { out, initialized in
                let from = StatsSendablePointer(UnsafeMutablePointer(mutating: src.baseAddress!))
                let to = StatsSendablePointer(out.baseAddress!)
                forEach((n + block - 1) / block) { b in
                    for i in (b * block)..<min(n, (b + 1) * block) { (to.base + i).initialize(to: transform(from.base[i])) }
                }
                initialized = n
            }
        }
    }

    /// How many workers a kernel that deals its own work should start: `min(work, budget)`, at
    /// least 1.
    public static func workers(for work: Int) -> Int { max(1, min(work, ThreadBudget.current)) }
}

/// A non-escaping closure handed to `concurrentPerform` workers, which all finish before it returns.
private struct UnsafeSendableClosure: @unchecked Sendable {
    let body: (Int) -> Void
    init(_ body: @escaping (Int) -> Void) { self.body = body }
}

/// Deals work items 0, 1, 2, … one at a time to the threads of a parallel loop that take them
/// (`take`), so that a thread that starts late or shares its core does not finish a fixed share
/// alone. For loops whose items' results do not depend on which thread ran them.
final class BlockCounter: Sendable {
    private let value = Atomic<Int>(0)
    /// The next item's index (past the last: the loop is done).
    func take() -> Int { value.wrappingAdd(1, ordering: .relaxed).oldValue }
}
