import Foundation
import XCTest
@testable import PipelineEngine

/// A per-scan kind that copies its scan's data file (`data/sub-<subject>.txt`).
private struct CopyKind: TypedStageKind {
    struct Parameters: Sendable, Equatable {}
    let name = "wave.copy"
    let version = 1
    let fanOut = FanOut.perScan
    func parameters(_ p: ParameterReader) -> Parameters { Parameters() }
    func sources(_ p: Parameters, scope: Scope) throws -> [String: String] { ["data": "data/sub-\(scope.subject!).txt"] }
    func run(_ p: Parameters, _ context: TaskContext) throws {
        try context.writeOutput("\(context.scope.label).txt", Array(try Data(contentsOf: context.sources["data"]!)))
    }
}

/// A group kind that counts its inputs.
private struct CountKind: TypedStageKind {
    struct Parameters: Sendable, Equatable {}
    let name = "wave.count"
    let version = 1
    let fanOut = FanOut.group
    func parameters(_ p: ParameterReader) -> Parameters { Parameters() }
    func run(_ p: Parameters, _ context: TaskContext) throws {
        try context.writeOutput("count.txt", Array("\(context.inputs.count)\n".utf8))
    }
}

/// The planner keys and looks up a stage's tasks in parallel (blocks of 512); its plans are the
/// same as planned on one thread, whatever the cache holds.
final class PlannerWaveTests: XCTestCase {
    func testParallelPlansEqualSerialPlans() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wave-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("data"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let subjects = (1...1300).map { String(format: "%04d", $0) }
        for s in subjects { try "\(s)\n".write(to: dir.appendingPathComponent("data/sub-\(s).txt"), atomically: false, encoding: .utf8) }
        let specURL = dir.appendingPathComponent("s.json")
        try """
        {"pipe": 1, "cohort": {"subjects": [\(subjects.map { "\"\($0)\"" }.joined(separator: ","))]},
         "stages": {"copy": {"kind": "wave.copy"}, "count": {"kind": "wave.count", "from": ["copy"]}}}
        """.write(to: specURL, atomically: false, encoding: .utf8)
        let registry = StageRegistry([CopyKind(), CountKind()])
        let spec = try SpecLoader(registry: registry).load(specURL)
        let cache = CacheStore(root: spec.cacheDirectory)
        try cache.ensureLayout()
        let memo = DigestMemo(path: cache.memoPath)
        let graph = try TaskGraph(spec: spec, memo: memo)
        var options = RunOptions()
        options.publishOutputs = false
        let summary = try await Runner(graph: graph, cache: cache, executor: LocalExecutor(cache: cache, registry: registry),
                                       options: options, observers: [], runID: "wave").run()
        XCTAssertEqual(summary.executed, subjects.count + 1)

        // Some entries removed (to run, with reasons), one damaged, the rest cached; the group
        // task then waits on upstream work.
        let planner = Planner(graph: graph, cache: cache)
        let first = planner.plan(threads: 1)
        for id in [3, 700, 1299] { cache.removeEntry(first[id].key!) }
        let damaged = first[1000].key!
        let out = cache.outputPath(damaged, "sub-1001.txt")
        chmod(out, 0o644)
        try "changed\n".write(toFile: out, atomically: false, encoding: .utf8)

        // A drop cut short (marker written, files still there) leaves an intact entry; with a
        // file gone, the entry is dropped.
        for id in [5, 6] { try "5\n".write(toFile: cache.entryPath(first[id].key!) + "/dropped", atomically: false, encoding: .utf8) }
        FileSystem.remove(cache.outputPath(first[6].key!, "sub-0007.txt"))

        let serial = planner.plan(threads: 1), parallel = planner.plan()
        XCTAssertEqual(serial.count, subjects.count + 1)
        for (a, b) in zip(serial, parallel) {
            XCTAssertEqual(a.task, b.task)
            XCTAssertEqual(a.status, b.status, "task \(a.task)")
            XCTAssertEqual(a.key, b.key, "task \(a.task)")
            XCTAssertEqual(a.reasons, b.reasons, "task \(a.task)")
            XCTAssertEqual(a.outputs, b.outputs, "task \(a.task)")
            XCTAssertEqual(a.dropped, b.dropped, "task \(a.task)")
        }
        XCTAssertEqual(serial.filter { $0.status == .run }.map(\.task), [3, 700, 1000, 1299])
        XCTAssertEqual(serial[3].reasons, ["new"], "its manifest went with the entry")
        XCTAssertTrue(serial[1000].reasons.first?.hasPrefix("cache entry damaged (output sub-1001.txt is") ?? false, "\(serial[1000].reasons)")
        XCTAssertEqual(serial.last?.status, .pending)
        XCTAssertEqual(serial.filter(\.dropped).map(\.task), [6])
        XCTAssertEqual(serial[5].status, .cached)
        XCTAssertEqual(serial.filter { $0.status == .cached }.count, subjects.count - 4)
        XCTAssertEqual(Set(serial.compactMap(\.key)).count, subjects.count, "every scan task has its own key")
    }
}
