import Foundation

/// `(0..<count).map(transform)` on up to `workers` threads (`concurrentPerform`), each taking
/// blocks of `block` indices in turn. The result is in index order whatever the thread count;
/// serial when one worker or one block would do. `transform` must touch nothing shared that it
/// writes.
public func parallelMap<R>(_ count: Int, workers: Int = ProcessInfo.processInfo.activeProcessorCount, block: Int,
                    _ transform: (Int) -> R) -> [R] {
    let blocks = (count + block - 1) / block
    let k = min(workers, blocks)
    guard k > 1 else { return (0..<count).map(transform) }
    return withoutActuallyEscaping(transform) { transform in
        [R](unsafeUninitializedCapacity: count) { buffer, initialized in
            let slots = MapSlots(base: buffer.baseAddress!, transform: transform)
            DispatchQueue.concurrentPerform(iterations: k) { w in
                for b in stride(from: w, to: blocks, by: k) {
                    for i in (b * block)..<min(count, (b + 1) * block) { (slots.base + i).initialize(to: slots.transform(i)) }
                }
            }
            initialized = count
        }
    }
}

/// The result slots and the transform of one `parallelMap`, shared by its workers; each writes
/// its own slots, and all finish before the map returns.
private struct MapSlots<R>: @unchecked Sendable {
    let base: UnsafeMutablePointer<R>
    let transform: (Int) -> R
}
