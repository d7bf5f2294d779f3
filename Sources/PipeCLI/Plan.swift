import ArgumentParser
import Foundation
import PipelineEngine

extension PipeCommand {
    /// `pipe plan`: every task, cached or to run, and why it would run.
    struct Plan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show every task: cached, to run (and why), or pending on upstream work.")

        @OptionGroup var study: StudyOptions

        @Flag(help: "Print the plan as JSON.")
        var json = false

        @Flag(help: "Only list tasks that will (or may) run.")
        var changed = false

        func run() async throws {
            let (_, graph, cache) = try study.loadGraph()
            let planner = Planner(graph: graph, cache: cache)
            let plans = planner.showingRecomputedDropped(planner.plan())
            if json {
                let items: [JSONValue] = plans.map { p in
                    let t = graph.tasks[p.task]
                    var o: [String: JSONValue] = ["stage": .string(t.stage), "scope": .string(t.scope.label),
                                                  "status": .string(p.status.rawValue),
                                                  "reasons": .array(p.reasons.map { .string($0) })]
                    if let k = p.key { o["key"] = .string(k) }
                    if p.status == .cached, let k = p.key, let notice = RunSummary.notice(in: cache, key: k) { o["notice"] = .string(notice) }
                    return .object(o)
                }
                print(JSONValue.array(items).serialized(pretty: true))
                return
            }
            let stageWidth = max(5, graph.spec.stages.map(\.name.count).max() ?? 5)
            let scopeWidth = max(5, graph.tasks.map(\.scope.label.count).max() ?? 5)
            var out = ""
            for p in plans where !changed || p.status != .cached {
                let t = graph.tasks[p.task]
                out += t.stage.padding(toLength: stageWidth, withPad: " ", startingAt: 0) + "  "
                out += t.scope.label.padding(toLength: scopeWidth, withPad: " ", startingAt: 0) + "  "
                out += p.status.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0) + "  "
                out += (p.key.map { String($0.prefix(12)) } ?? "").padding(toLength: 12, withPad: " ", startingAt: 0)
                if !p.reasons.isEmpty { out += "  " + p.reasons.joined(separator: "; ") }
                out += "\n"
            }
            let cached = plans.filter { $0.status == .cached }.count
            let run = plans.filter { $0.status == .run }.count
            let pending = plans.filter { $0.status == .pending }.count
            out += "\(plans.count) tasks: \(cached) cached, \(run) to run, \(pending) pending on upstream (may be cached after it: early cutoff)\n"
            // What the cached tasks said when they ran (the qc stage's exclusions, for one).
            for p in plans where p.status == .cached {
                if let k = p.key, let notice = RunSummary.notice(in: cache, key: k) { out += "\(graph.tasks[p.task].stage) (cached): \(notice)\n" }
            }
            for d in graph.spec.deferredChecks { out += "checked when its inputs exist: \(d)\n" }
            for n in graph.spec.notes { out += "note: \(n)\n" }
            FileHandle.standardOutput.write(Data(out.utf8))
        }
    }
}
