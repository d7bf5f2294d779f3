import ArgumentParser
import Foundation
import PipelineEngine

extension PipeCommand {
    /// `pipe validate`: check a spec (and that its source files exist) without running anything.
    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check a study spec and its source files.")

        @OptionGroup var study: StudyOptions

        func run() async throws {
            let (spec, graph, _) = try study.loadGraph()
            let c = spec.cohort
            var cohort = [Plural.count(c.subjects.count, "subject")]
            let sessions = c.sessions.compactMap { $0 }.count, runs = c.runs.compactMap { $0 }.count
            if sessions > 0 { cohort.append(Plural.count(sessions, "session")) }
            if runs > 0 { cohort.append(Plural.count(runs, "run")) }
            var line = "\(spec.specURL.lastPathComponent): ok: \(Plural.count(spec.stages.count, "stage")), "
                + "\(Plural.count(graph.tasks.count, "task")); " + cohort.joined(separator: " x ")
            if !c.missing.isEmpty { line += " (\(Plural.count(c.missing.count, "missing scan")) listed)" }
            print(line)
            for d in spec.deferredChecks { print("  checked when its inputs exist: \(d)") }
        }
    }
}
