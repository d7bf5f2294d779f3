import Foundation
import PipelineEngine

/// The failures of a run as a person wants to read them: an error that every scan of a stage hit
/// is shown once, with the count and the scans, instead of once per scan.
enum FailureReport {
    /// The error with the scope's own labels (`sub-07`, `ses-2`, `run-1`) masked, so that the same
    /// mistake seen from different scans compares equal.
    static func shape(_ f: RunSummary.Failure) -> String {
        var text = f.error
        if let s = f.scope.subject { text = text.replacingOccurrences(of: "sub-" + s, with: "sub-*") }
        if let s = f.scope.session { text = text.replacingOccurrences(of: "ses-" + s, with: "ses-*") }
        if let r = f.scope.run { text = text.replacingOccurrences(of: "run-" + r, with: "run-*") }
        return text
    }

    /// Lines for `pipe: failed:`, grouping failures of one stage with the same error shape.
    static func lines(_ failures: [RunSummary.Failure]) -> [String] {
        var groups: [(key: String, items: [RunSummary.Failure])] = []
        for f in failures {
            let key = f.stage + "\u{0}" + shape(f)
            if let i = groups.firstIndex(where: { $0.key == key }) { groups[i].items.append(f) } else { groups.append((key, [f])) }
        }
        var out = ["\(Plural.count(failures.count, "task")) failed:"]
        for g in groups {
            let first = g.items[0]
            out.append("\(first.stage) \(first.scope.label): \(first.error)")
            // A task whose job never started pipe (a node without it) has no log to point to.
            if !first.log.isEmpty && FileManager.default.fileExists(atPath: first.log) { out.append("  log: \(first.log)") }
            if g.items.count > 1 {
                let others = g.items.dropFirst().map(\.scope.label)
                let shown = others.listed(shown: 4)
                out.append("  the same error in \(Plural.count(others.count, "more task")) of \(first.stage): \(shown)")
            }
        }
        return out
    }
}
