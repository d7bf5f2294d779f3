import ArgumentParser
import Foundation
import PipelineEngine

extension PipeCommand {
    /// `pipe validate`: check a spec, its names and values against the study's files, and that its
    /// source files exist, without running anything and without reading any data (sources are not
    /// hashed; the checks read tables, sidecars and image headers only).
    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check a study spec and its source files.")

        @OptionGroup var study: StudyOptions

        @Flag(help: "Print the result as JSON (with the bytes of source data hashed: 0).")
        var json = false

        func run() async throws {
            let (spec, graph, _) = try study.loadGraph(hashing: false)
            if json {
                print(JSONValue.object([
                    "spec": .string(spec.specURL.path), "ok": .bool(true), "stages": .number(Double(spec.stages.count)),
                    "tasks": .number(Double(graph.tasks.count)), "subjects": .number(Double(spec.cohort.subjects.count)),
                    "checked_later": .array(spec.deferredChecks.map { .string($0) }),
                    "notes": .array(spec.notes.map { .string($0) }),
                    "bytes_hashed": .number(Double(IOCounters.bytesHashed)),
                ]).serialized(pretty: true))
                return
            }
            let c = spec.cohort
            var cohort = [Plural.count(c.subjects.count, "subject")]
            let sessions = c.sessions.compactMap { $0 }.count, runs = c.runs.compactMap { $0 }.count
            if sessions > 0 { cohort.append(Plural.count(sessions, "session")) }
            if runs > 0 { cohort.append(Plural.count(runs, "run")) }
            if c.runsFound.values.contains(where: { $0.contains { $0 != nil } }) { cohort.append("runs found on disk (\(Plural.count(c.scans.count, "scan")))") }
            var line = "\(spec.specURL.lastPathComponent): ok: \(Plural.count(spec.stages.count, "stage")), "
                + "\(Plural.count(graph.tasks.count, "task")); " + cohort.joined(separator: " x ")
            if !c.missing.isEmpty { line += " (\(Plural.count(c.missing.count, "missing scan")) listed)" }
            print(line)
            for d in spec.deferredChecks { print("  checked when its inputs exist: \(d)") }
            for n in spec.notes { print("  note: \(n)") }
        }
    }
}
