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
            print("\(spec.specURL.lastPathComponent): ok: \(spec.stages.count) stages, \(graph.tasks.count) tasks; "
                  + "\(c.subjects.count) subjects x \(c.sessions.compactMap { $0 }.count) sessions x \(c.runs.compactMap { $0 }.count) runs")
        }
    }
}
