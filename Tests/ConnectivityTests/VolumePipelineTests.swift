import Foundation
import PipelineEngine
import XCTest
@testable import Connectivity

final class VolumePipelineTests: XCTestCase {
    private struct Stop: Error, Equatable { let volume: Int }

    /// Every volume is consumed exactly once, with the bytes its producer call wrote, by a worker
    /// in 0..<slots.
    func testEveryVolumeIsConsumedOnceWhateverTheWorkerCount() throws {
        for workers in 1...4 {
            for volumes in [0, 1, 7, 40] {
                let seen = Locked<[Int: (value: Int, worker: Int)]>([:])
                var produced: [Int] = []
                try VolumePipeline.run(volumes: volumes, bytesPerVolume: 64, workers: workers) { t, buffer in
                    produced.append(t)
                    buffer.storeBytes(of: 1000 + t, as: Int.self)
                } consume: { t, buffer, worker in
                    let value = buffer.load(as: Int.self)
                    seen.withLock { XCTAssertNil($0.updateValue((value, worker), forKey: t), "volume \(t) consumed twice") }
                }
                XCTAssertEqual(produced, Array(0..<volumes), "workers \(workers)")
                let result = seen.withLock { $0 }
                XCTAssertEqual(result.keys.sorted(), Array(0..<volumes), "workers \(workers), volumes \(volumes)")
                for (t, r) in result {
                    XCTAssertEqual(r.value, 1000 + t)
                    XCTAssertTrue((0..<VolumePipeline.slots(workers: workers)).contains(r.worker), "worker \(r.worker) of \(workers)")
                }
            }
        }
    }

    /// The first error of either side is rethrown and stops production.
    func testTheFirstErrorIsRethrownAndStopsProduction() {
        XCTAssertEqual((1...4).map { VolumePipeline.slots(workers: $0) }, [2, 2, 3, 4])
        for workers in 1...3 {
            var produced = 0
            // Later volumes wait until volume 5 is failing and then fail with it, so that no buffer
            // is freed after volume 4: what is produced is bounded by the buffers, however the
            // threads are scheduled (a later consumer that returned while volume 5's error was on
            // its way to the pipeline would free a buffer for one more volume).
            let gate = NSCondition()
            var failing = false
            XCTAssertThrowsError(try VolumePipeline.run(volumes: 100, bytesPerVolume: 8, workers: workers) { _, _ in
                produced += 1
            } consume: { t, _, _ in
                if t == 5 {
                    gate.lock(); failing = true; gate.broadcast(); gate.unlock()
                    throw Stop(volume: 5)
                }
                if t > 5 {
                    gate.lock(); while !failing { gate.wait() }; gate.unlock()
                    throw Stop(volume: 5)
                }
            }) { XCTAssertEqual($0 as? Stop, Stop(volume: 5), "workers \(workers)") }
            // Volumes 0-4 freed their buffers; every other volume produced holds one.
            XCTAssertLessThanOrEqual(produced, 5 + 2 * VolumePipeline.slots(workers: workers) + 1, "workers \(workers)")

            XCTAssertThrowsError(try VolumePipeline.run(volumes: 100, bytesPerVolume: 8, workers: workers) { t, _ in
                if t == 3 { throw Stop(volume: 3) }
            } consume: { _, _, _ in }) { XCTAssertEqual($0 as? Stop, Stop(volume: 3), "workers \(workers)") }
        }
    }
}
