import Foundation
import PipelineEngine

/// Hands the volumes of a run from one producer to consumers through a small pool of volume
/// buffers, so that reading (decompressing) a run overlaps the per-volume work on it and the run
/// is never held whole.
///
/// `produce(t, buffer)` fills volume t (`bytesPerVolume` bytes, in any encoding the consumer
/// understands), for t = 0, 1, … in order, on the calling thread.
/// `consume(t, buffer, worker)` runs once per volume, in any order and concurrently, so each call
/// must write only what belongs to its volume; the results then do not depend on the thread
/// count. The consumers are `max(1, workers − 1)` threads started here and the producer itself,
/// which consumes a filled volume whenever every buffer is full and, after the last volume,
/// helps drain the rest; `worker` runs over `0..<slots(workers:)`, the producer's the last. So
/// two or more workers keep as many threads busy: with a separate producer on top, three busy
/// threads on two cores were time-sliced, and the two consumers often shared one core while the
/// producer's core idled (the load phase of one scan ran 25 % slower). One worker keeps a
/// consumer thread of its own, so that decompressing overlaps the work on the volumes (a
/// 1-thread task uses up to two cores while it reads, as `--cores` allows for).
/// The first error thrown on either side stops both and is rethrown. When the consumer threads
/// cannot all be created, nothing is produced and ``PipeError`` "cannot start N threads: …" is
/// thrown.
enum VolumePipeline {
    static func run(volumes: Int, bytesPerVolume: Int, workers: Int,
                    produce: (Int, UnsafeMutableRawPointer) throws -> Void,
                    consume: (Int, UnsafeMutableRawPointer, Int) throws -> Void) throws {
        let slotCount = slots(workers: workers), threads = slotCount - 1   // the producer is the last slot
        let handoff = Handoff(buffers: 2 * slotCount + 1, bytes: bytesPerVolume)
        // The consumers are joined, and the handoff lets go of `consume`, before this block ends.
        try withoutActuallyEscaping(consume) { consume in
            handoff.consume = consume
            defer { handoff.consume = nil }
            let consumers = try TaskThread.startGroup(count: threads, name: "pipe-volumes", { worker in
                handoff.drain(worker: worker)
            }, unwind: { handoff.close() })
            produceAll(volumes: volumes, handoff: handoff, worker: threads, produce: produce)
            handoff.drain(worker: threads)
            consumers.join()
        }
        if let failure = handoff.failure { throw failure }
    }

    /// How many `worker` indices `run` uses for `workers`: the consumer threads and the producer.
    static func slots(workers: Int) -> Int { max(1, workers - 1) + 1 }

    private static func produceAll(volumes: Int, handoff: Handoff, worker: Int, produce: (Int, UnsafeMutableRawPointer) throws -> Void) {
        for t in 0..<volumes {
            guard let buffer = handoff.takeFree(helpingAs: worker) else { break }
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

        /// A buffer to fill, or nil once a consumer failed. While every buffer is full, the
        /// caller consumes filled volumes as `worker` instead of waiting.
        func takeFree(helpingAs worker: Int) -> UnsafeMutableRawPointer? {
            condition.lock()
            while failure == nil {
                if let buffer = free.popLast() {
                    condition.unlock()
                    return buffer
                }
                if !ready.isEmpty {
                    let item = ready.removeFirst()
                    condition.unlock()
                    guard consumeOne(item, worker: worker) else { return nil }
                    condition.lock()
                    continue
                }
                condition.wait()
            }
            condition.unlock()
            return nil
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
            while true {
                condition.lock()
                while ready.isEmpty && !closed && failure == nil { condition.wait() }
                if failure != nil || ready.isEmpty {
                    condition.unlock()
                    return
                }
                let item = ready.removeFirst()
                condition.unlock()
                guard consumeOne(item, worker: worker) else { return }
            }
        }

        /// Runs `consume` on one filled volume and frees its buffer; false (and the failure
        /// recorded) when it throws.
        private func consumeOne(_ item: (volume: Int, buffer: UnsafeMutableRawPointer), worker: Int) -> Bool {
            guard let consume else { return false }
            do {
                try consume(item.volume, item.buffer, worker)
            } catch {
                fail(error)
                return false
            }
            condition.lock()
            free.append(item.buffer)
            condition.broadcast()
            condition.unlock()
            return true
        }
    }
}
