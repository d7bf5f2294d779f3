import Foundation
import PipelineEngine

/// Hands the volumes of a run from one producer to several consumer threads through a small
/// pool of volume buffers, so that reading (decompressing) a run overlaps the per-volume work
/// on it and the run is never held whole.
///
/// `produce(t, buffer)` fills volume t (`bytesPerVolume` bytes, in any encoding the consumer
/// understands), for t = 0, 1, … in order, on the calling thread.
/// `consume(t, buffer, worker)` runs once per volume on one of `workers` threads (`worker` in
/// 0..<workers, for per-thread scratch), in any order and concurrently, so each call must write
/// only what belongs to its volume; the results then do not depend on the thread count. The
/// first error thrown on either side stops both and is rethrown. When the consumer threads cannot
/// all be created, nothing is produced and ``PipeError`` "cannot start N threads: …" is thrown.
enum VolumePipeline {
    static func run(volumes: Int, bytesPerVolume: Int, workers: Int,
                    produce: (Int, UnsafeMutableRawPointer) throws -> Void,
                    consume: (Int, UnsafeMutableRawPointer, Int) throws -> Void) throws {
        let handoff = Handoff(buffers: 2 * workers + 1, bytes: bytesPerVolume)
        // The consumers are joined, and the handoff lets go of `consume`, before this block ends.
        try withoutActuallyEscaping(consume) { consume in
            handoff.consume = consume
            defer { handoff.consume = nil }
            let consumers = try TaskThread.startGroup(count: workers, name: "pipe-volumes", { worker in
                handoff.drain(worker: worker)
            }, unwind: { handoff.close() })
            produceAll(volumes: volumes, handoff: handoff, produce: produce)
            consumers.join()
        }
        if let failure = handoff.failure { throw failure }
    }

    private static func produceAll(volumes: Int, handoff: Handoff, produce: (Int, UnsafeMutableRawPointer) throws -> Void) {
        for t in 0..<volumes {
            guard let buffer = handoff.takeFree() else { break }
            do {
                try produce(t, buffer)
            } catch {
                handoff.fail(error)
                break
            }
            handoff.publish(volume: t, buffer: buffer)
        }
        handoff.close()
    }


    /// The shared state: free buffers, filled ones waiting for a consumer, and the first error.
    private final class Handoff: @unchecked Sendable {
        private let condition = NSCondition()
        private let storage: [UnsafeMutableRawPointer]
        private var free: [UnsafeMutableRawPointer]
        private var ready: [(volume: Int, buffer: UnsafeMutableRawPointer)] = []
        private var closed = false
        private(set) var failure: (any Error)?
        /// The consumers' work; set before they start and cleared after they finished.
        var consume: ((Int, UnsafeMutableRawPointer, Int) throws -> Void)?

        init(buffers: Int, bytes: Int) {
            storage = (0..<buffers).map { _ in .allocate(byteCount: max(bytes, 1), alignment: 64) }
            free = storage
        }

        deinit { for b in storage { b.deallocate() } }

        /// A buffer to fill, or nil once a consumer failed.
        func takeFree() -> UnsafeMutableRawPointer? {
            condition.lock()
            defer { condition.unlock() }
            while free.isEmpty && failure == nil { condition.wait() }
            return failure == nil ? free.removeLast() : nil
        }

        func publish(volume: Int, buffer: UnsafeMutableRawPointer) {
            condition.lock()
            ready.append((volume, buffer))
            condition.broadcast()
            condition.unlock()
        }

        /// No more volumes will be published.
        func close() {
            condition.lock()
            closed = true
            condition.broadcast()
            condition.unlock()
        }

        func fail(_ error: any Error) {
            condition.lock()
            if failure == nil { failure = error }
            condition.broadcast()
            condition.unlock()
        }

        /// Consumes published volumes until the producer closes and nothing is left, or a failure.
        func drain(worker: Int) {
            guard let consume else { return }
            while true {
                condition.lock()
                while ready.isEmpty && !closed && failure == nil { condition.wait() }
                if failure != nil || ready.isEmpty {
                    condition.unlock()
                    return
                }
                let item = ready.removeFirst()
                condition.unlock()
                do {
                    try consume(item.volume, item.buffer, worker)
                } catch {
                    fail(error)
                    return
                }
                condition.lock()
                free.append(item.buffer)
                condition.broadcast()
                condition.unlock()
            }
        }
    }
}
