import ArgumentParser
import Foundation
import PipelineEngine

extension PipeCommand {
    /// `pipe status`: summary of the last run in a cache.
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Summarise the last run recorded in the cache's journal.")

        @Argument(help: "A study spec (to find its cache).")
        var spec: String?

        @OptionGroup var location: CacheLocation

        @Flag(help: "Print as JSON.")
        var json = false

        func run() async throws {
            let cache = try location.resolve(specs: spec.map { [$0] } ?? [])
            let recent = try RunStatus.recent(in: cache)
            guard let s = recent.latest else {
                print("no runs recorded in \(cache.root.path)")
                return
            }
            if json {
                func object(_ s: RunStatus) -> JSONValue {
                    .object([
                        "run": .string(s.runID), "outcome": .string(s.outcome), "total": .number(Double(s.total)),
                        "journal": .string(s.journal),
                        "counts": .object(s.counts.mapValues { .number(Double($0)) }),
                        "seconds": s.seconds.map { .number($0) } ?? .null,
                        "failures": .array(s.failures.map { .object(["task": .string($0.task), "error": .string($0.error), "log": .string($0.log)]) }),
                    ])
                }
                var o = object(s).objectValue!
                if let ran = recent.lastThatRan { o["last_run_that_ran_tasks"] = object(ran) }
                print(JSONValue.object(o).serialized(pretty: true))
                return
            }
            var out = describe(s, title: "last run")
            if let ran = recent.lastThatRan { out += describe(ran, title: "last run that ran tasks") }
            FileHandle.standardOutput.write(Data(out.utf8))
        }

        private func describe(_ s: RunStatus, title: String) -> String {
            var out = "\(title) \(s.runID): \(s.outcome)"
            if let secs = s.seconds { out += String(format: " in %.2f s", secs) }
            if let rss = s.peakRSS { out += ", peak memory \(rss >> 20) MiB" }
            let (ran, cached, failed, skipped) = (s.counts["executed"] ?? 0, s.counts["cached"] ?? 0, s.counts["failed"] ?? 0, s.counts["skipped"] ?? 0)
            out += "\n  \(s.total) tasks: \(ran) ran, \(cached) cached, \(failed) failed, "
            // A killed run wrote no summary: the tasks without an outcome are not finished (not
            // "not run": some were running when it died).
            out += s.outcome == "incomplete" ? "\(max(0, s.total - ran - cached - failed - skipped)) not finished" : "\(skipped) not run"
            if let r = s.counts["retried"] { out += ", \(r) retried attempts" }
            out += "\n"
            for st in s.perStage { out += "  \(st.stage): \(st.executed) ran, \(st.cached) cached, \(st.failed) failed\n" }
            for f in s.failures { out += "  FAILED \(f.task): \(f.error)\n    log: \(f.log)\n" }
            if s.outcome == "incomplete" { out += "  (the run was killed or is still running)\n" }
            out += "  journal: \(s.journal)\n"
            return out
        }
    }
}
