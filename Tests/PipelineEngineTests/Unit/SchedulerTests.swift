import XCTest
@testable import PipelineEngine

final class SchedulerTests: XCTestCase {
    func runProbe(subjects: Int, jobs: Int, budget: UInt64, estimate: UInt64) async throws -> (peak: Int, summary: RunSummary) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sched-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let probe = Locked((current: 0, peak: 0))
        let registry = StageRegistry([ProbeKind(probe: probe, estimate: estimate)])
        let subs = (1...subjects).map { "\"\(String(format: "%02d", $0))\"" }.joined(separator: ",")
        let specURL = dir.appendingPathComponent("s.json")
        try "{\"pipe\": 1, \"cohort\": {\"subjects\": [\(subs)]}, \"stages\": {\"p\": {\"kind\": \"probe\"}}}"
            .write(to: specURL, atomically: false, encoding: .utf8)
        let spec = try SpecLoader(registry: registry).load(specURL)
        let cache = CacheStore(root: spec.cacheDirectory)
        try cache.ensureLayout()
        let graph = try TaskGraph(spec: spec, memo: DigestMemo(path: cache.memoPath))
        var options = RunOptions()
        options.jobs = jobs
        options.memoryBudget = budget
        let runner = Runner(graph: graph, cache: cache, executor: LocalExecutor(cache: cache, registry: registry),
                            options: options, observers: [], runID: "test")
        let summary = try await runner.run()
        return (probe.current.peak, summary)
    }

    func testJobsBoundConcurrencyAndBodiesDoNotStarveTheCooperativePool() async throws {
        // More blocking tasks at once than there are cores: only dedicated threads allow that.
        let jobs = ProcessInfo.processInfo.activeProcessorCount + 4
        let r = try await runProbe(subjects: 12, jobs: jobs, budget: 1 << 40, estimate: 1 << 20)
        XCTAssertEqual(r.peak, jobs)
        XCTAssertEqual(r.summary.executed, 12)
        let one = try await runProbe(subjects: 4, jobs: 1, budget: 1 << 40, estimate: 1 << 20)
        XCTAssertEqual(one.peak, 1)
    }

    func testMemoryBudgetLimitsConcurrency() async throws {
        let r = try await runProbe(subjects: 6, jobs: 6, budget: 250 << 20, estimate: 100 << 20)
        XCTAssertEqual(r.peak, 2, "two 100 MiB tasks fit a 250 MiB budget, three do not")
        let big = try await runProbe(subjects: 3, jobs: 3, budget: 50 << 20, estimate: 100 << 20)
        XCTAssertEqual(big.peak, 1, "a task larger than the budget runs alone")
        XCTAssertEqual(big.summary.executed, 3)
    }

    func testPlannerReasons() {
        let base = TaskDescription(key: "k1", stage: "s", kind: "k", kindVersion: 1, params: .object(["a": .number(1), "b": .string("x")]),
                                   scope: .group, sources: [.init(name: "data", path: "/d/f.txt", digest: "d1")],
                                   inputs: [.init(fromIndex: 0, stage: "up", scope: .subject("01"), key: "u1",
                                                  outputs: [OutputFile(name: "o", sha256: "h1", size: 1)])], memory: 0)
        let previous = Manifest(task: base, outputs: [], started: "", seconds: 0, peakRSS: 0, tool: "")
        var d = base
        d.kindVersion = 2
        d.params = .object(["a": .number(2), "b": .string("x")])
        d.sources[0].digest = "d2"
        d.inputs[0].outputs[0].sha256 = "h2"
        d.inputs.append(.init(fromIndex: 0, stage: "up", scope: .subject("02"), key: "u2", outputs: []))
        XCTAssertEqual(Planner.reasons(d, previous: previous), [
            "stage version changed (1 -> 2)", "parameter changed: a (1 -> 2)", "input changed: data (/d/f.txt)",
            "upstream changed: up sub-01", "upstream added: up sub-02",
        ])
        XCTAssertEqual(Planner.reasons(d, previous: nil), ["new"])
    }
}
