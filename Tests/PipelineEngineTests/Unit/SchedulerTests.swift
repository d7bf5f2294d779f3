import XCTest
@testable import PipelineEngine

/// Counts the tasks the scheduler has started and not yet seen finish or fail, from its events
/// (emitted by its control loop, so the count is the scheduler's own, independent of timing).
final class InFlightObserver: RunObserver, @unchecked Sendable {
    private let state = Locked((current: 0, peak: 0))
    var peak: Int { state.current.peak }

    func handle(_ event: RunEvent) {
        switch event {
        case .started: state.withLock { $0.current += 1; $0.peak = max($0.peak, $0.current) }
        case .finished, .failed: state.withLock { $0.current -= 1 }
        default: break
        }
    }
}

final class SchedulerTests: XCTestCase {
    /// Runs `subjects` probe tasks whose bodies wait until `target` of them run at once.
    /// - Returns: the peak number of bodies running at once, the peak number of tasks the scheduler
    ///   had started and not finished, and the summary.
    func runProbe(subjects: Int, jobs: Int, budget: UInt64, estimate: UInt64, target: Int,
                  cores: Int? = nil, threads: Int? = nil) async throws -> (peak: Int, scheduled: Int, summary: RunSummary) {
        let gate = ProbeGate(target: target)
        let subs = (1...subjects).map { "\"\(String(format: "%02d", $0))\"" }.joined(separator: ",")
        var options = RunOptions()
        options.jobs = jobs
        options.memoryBudget = budget
        options.cores = cores ?? jobs
        options.threadsPerTask = cores ?? jobs
        let observer = InFlightObserver()
        let (summary, _) = try await run("{\"pipe\": 1, \"cohort\": {\"subjects\": [\(subs)]}, \"stages\": {\"p\": {\"kind\": \"probe\"\(threads.map { ", \"threads\": \($0)" } ?? "")}}}",
                                         kinds: [ProbeKind(gate: gate, estimate: estimate)], options: options, observer: observer)
        return (gate.peak, observer.peak, summary)
    }

    // Each body waits until the expected number run at once, so reaching the bound does not depend
    // on timing (a scheduler that never gets there fails the bodies after the gate's deadline); the
    // scheduler's own count of started tasks shows it never goes beyond it.

    func testJobsBoundConcurrencyAndBodiesDoNotStarveTheCooperativePool() async throws {
        // More blocking tasks at once than there are cores: only dedicated threads allow that.
        let jobs = ProcessInfo.processInfo.activeProcessorCount + 4
        let r = try await runProbe(subjects: 2 * jobs, jobs: jobs, budget: 1 << 40, estimate: 1 << 20, target: jobs)
        XCTAssertEqual(r.peak, jobs)
        XCTAssertEqual(r.scheduled, jobs)
        XCTAssertEqual(r.summary.executed, 2 * jobs)
        let one = try await runProbe(subjects: 4, jobs: 1, budget: 1 << 40, estimate: 1 << 20, target: 1)
        XCTAssertEqual(one.peak, 1)
        XCTAssertEqual(one.scheduled, 1)
        XCTAssertEqual(one.summary.executed, 4)
    }

    func testMemoryBudgetLimitsConcurrency() async throws {
        let r = try await runProbe(subjects: 6, jobs: 6, budget: 250 << 20, estimate: 100 << 20, target: 2)
        XCTAssertEqual(r.peak, 2, "two 100 MiB tasks fit a 250 MiB budget, three do not")
        XCTAssertEqual(r.scheduled, 2)
        XCTAssertEqual(r.summary.executed, 6)
        let big = try await runProbe(subjects: 3, jobs: 3, budget: 50 << 20, estimate: 100 << 20, target: 1)
        XCTAssertEqual(big.peak, 1, "a task larger than the budget runs alone")
        XCTAssertEqual(big.scheduled, 1)
        XCTAssertEqual(big.summary.executed, 3)
    }

    func testCoresLimitConcurrency() async throws {
        let r = try await runProbe(subjects: 6, jobs: 6, budget: 1 << 40, estimate: 1 << 20, target: 2, cores: 5, threads: 2)
        XCTAssertEqual(r.peak, 2, "two 2-thread tasks fit 5 cores, three do not")
        XCTAssertEqual(r.scheduled, 2)
        XCTAssertEqual(r.summary.executed, 6)
        let wide = try await runProbe(subjects: 3, jobs: 3, budget: 1 << 40, estimate: 1 << 20, target: 1, cores: 4, threads: 8)
        XCTAssertEqual(wide.peak, 1, "a task asking for more threads than there are cores runs alone")
        XCTAssertEqual(wide.scheduled, 1)
        XCTAssertEqual(wide.summary.executed, 3)
    }

    func testReadyTasksStartHeaviestPathFirst() async throws {
        // a -> c is the longest path (1 + 10); b and d wait on nothing, d and e tie (spec order).
        let order = try await startOrder(jobs: 1, """
            "a": {"kind": "work", "work": 1}, "b": {"kind": "work", "work": 5},
            "c": {"kind": "work", "work": 10, "from": "a"}, "d": {"kind": "work", "work": 2},
            "e": {"kind": "work", "work": 2}
            """)
        XCTAssertEqual(order, ["a", "c", "b", "d", "e"])
        // Path work, not own work: a feeds a heavy task, so it starts before the heavier b.
        let chain = try await startOrder(jobs: 1, """
            "b": {"kind": "work", "work": 5}, "a": {"kind": "work", "work": 1},
            "c": {"kind": "work", "work": 4.5, "from": "a"}
            """)
        XCTAssertEqual(chain, ["a", "b", "c"])
        // Equal estimates keep spec order.
        let tie = try await startOrder(jobs: 1, """
            "y": {"kind": "work"}, "x": {"kind": "work"}, "z": {"kind": "work"}
            """)
        XCTAssertEqual(tie, ["y", "x", "z"])
    }

    /// Runs group-level `work` stages (`stages` is the body of the spec's `stages` object) and
    /// returns the stages in the order their tasks started.
    private func startOrder(jobs: Int, _ stages: String) async throws -> [String] {
        var options = RunOptions()
        options.jobs = jobs
        let started = Locked([String]())
        let observer = EventLog { if case .started(let stage, _, _, _) = $0 { started.withLock { $0.append(stage) } } }
        let (summary, graph) = try await run("{\"pipe\": 1, \"cohort\": {\"subjects\": [\"01\"]}, \"stages\": {\(stages)}}",
                                             kinds: [WorkKind()], options: options, observer: observer)
        XCTAssertEqual(summary.executed, graph.tasks.count)
        return started.withLock { $0 }
    }

    /// Runs the study `spec` (JSON) with `kinds`, in a temporary folder removed afterwards.
    private func run(_ spec: String, kinds: [any StageKind], options: RunOptions, observer: any RunObserver) async throws -> (RunSummary, TaskGraph) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sched-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let registry = StageRegistry(kinds)
        let specURL = dir.appendingPathComponent("s.json")
        try spec.write(to: specURL, atomically: false, encoding: .utf8)
        let study = try SpecLoader(registry: registry).load(specURL)
        let cache = CacheStore(root: study.cacheDirectory)
        try cache.ensureLayout()
        let graph = try TaskGraph(spec: study, memo: DigestMemo(path: cache.memoPath))
        let runner = Runner(graph: graph, cache: cache, executor: LocalExecutor(cache: cache, registry: registry),
                            options: options, observers: [observer], runID: "test")
        return (try await runner.run(), graph)
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

/// A group-level kind whose work estimate is its `work` parameter; it writes the estimate.
private struct WorkKind: TypedStageKind {
    struct Parameters: Sendable, Equatable { var work: Double }

    let name = "work"
    let version = 1
    let fanOut = FanOut.group

    func parameters(_ p: ParameterReader) -> Parameters { Parameters(work: p.number("work", default: 1, range: 0...1e9)) }
    func workEstimate(_ p: Parameters, scope: Scope) -> Double { p.work }
    func run(_ p: Parameters, _ context: TaskContext) throws {
        try context.writeOutput("work.txt", Array("\(p.work)".utf8))
    }
}

/// Passes every run event to a closure.
private final class EventLog: RunObserver, @unchecked Sendable {
    let body: @Sendable (RunEvent) -> Void
    init(_ body: @escaping @Sendable (RunEvent) -> Void) { self.body = body }
    func handle(_ event: RunEvent) { body(event) }
}
