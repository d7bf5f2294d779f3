import Foundation
import PipelineEngine

/// The scans a `qc` stage excluded, as a group-level stage that reads it applies them: every
/// excluded scan with the rules it failed. A group-level stage with a `qc` stage in `from` drops
/// those scans: a run the rules excluded leaves the mean of the subject's runs at that session
/// (see `select`), and a subject with no run left at a session it is tested at leaves the test.
/// It lists them, with the rule, value and threshold, in its summary: no subject or run leaves a
/// group result without a row saying why. A run `clean` refused (`CleanedScan.Refusal`) has no
/// map and leaves the same way, with a qc stage or without.
struct QCExclusions: Sendable {
    /// One excluded scan and why.
    struct Entry: Sendable, Equatable {
        var subject: String
        var session: String?
        var run: String?
        var rule: String
        var value: String
        var threshold: String

        var description: String {
            "sub-\(subject)\(session.map { " ses-\($0)" } ?? "")\(run.map { " run-\($0)" } ?? ""): \(rule) \(value) (threshold \(threshold))"
        }

        /// Whether this is a row of the scan of `subject` at `session` (nil: the study has no
        /// sessions) and `run` (nil: no run entity).
        func covers(subject: String, session: String?, run: String?) -> Bool {
            self.subject == subject && (session == nil || self.session == nil || self.session == session)
                && (self.run == nil || self.run == run)
        }
    }

    var entries: [Entry]

    /// The columns of `exclusions.tsv`, as the `qc` stage writes them.
    static let columns = ["participant_id", "session", "run", "rule", "value", "threshold"]

    /// The exclusions of the `qc` stage among the task's inputs; nil when it reads none.
    static func read(_ context: TaskContext) throws -> QCExclusions? {
        guard let url = context.inputs.lazy.compactMap({ $0.files["exclusions.tsv"] }).first else { return nil }
        let table: TSVTable
        do { table = try TSVTable.read(url.path) } catch let e as TSVTable.ReadError {
            throw InputError(path: url.path, "cannot read the qc stage's exclusions: \(e.reason)")
        }
        guard table.header == columns else {
            throw InputError(path: url.path, "is not a qc stage's exclusions table")
        }
        return QCExclusions(entries: table.rows.map { r in
            let id = r.cells[0].hasPrefix("sub-") ? String(r.cells[0].dropFirst(4)) : r.cells[0]
            return Entry(subject: id, session: r.cells[1] == "n/a" ? nil : r.cells[1], run: r.cells[2] == "n/a" ? nil : r.cells[2],
                         rule: r.cells[3], value: r.cells[4], threshold: r.cells[5])
        })
    }

    /// What a group-level stage tests after the exclusions: the subjects kept and, per session and
    /// kept subject, the map files of its kept runs.
    struct Selection {
        var subjects: [String]
        /// `runs[k][i]`: the kept runs' maps of `subjects[i]` at the k-th session asked for
        /// (empty where the subject has no map there).
        var runs: [[[URL]]]
        /// `runLabels[k][i]`: those runs' run entities (nil without one).
        var runLabels: [[[String?]]]
        /// The sessions asked for (nil: the study has none).
        var sessions: [String?]
        /// A line per excluded scan (nil without a qc stage and with no run clean refused). A run
        /// dropped from a subject who stays says so.
        var excluded: [String]?

        /// What each kept subject's map at each session averages: session ("" without sessions) →
        /// subject → its kept runs, for the summaries; nil when no scan has a run entity (then
        /// each subject has one map per session, its scan's).
        var averagedRuns: [String: [String: [String]]]? {
            guard runLabels.contains(where: { $0.contains { $0.contains { $0 != nil } } }) else { return nil }
            var out: [String: [String: [String]]] = [:]
            for (k, session) in sessions.enumerated() {
                for (i, subject) in subjects.enumerated() where !runLabels[k][i].isEmpty {
                    out[session ?? "", default: [:]][subject] = runLabels[k][i].map { $0 ?? "n/a" }
                }
            }
            return out
        }
    }

    /// Applies the exclusions to `subjects` at each of `sessions` (a session nil: the study has
    /// none) with their maps per run. A run the qc stage excluded is dropped; a subject is
    /// dropped when, at a session where it has maps, none is left. Each exclusion is logged in
    /// the task's log too.
    static func select(_ context: TaskContext, subjects: [String],
                       sessions: [(session: String?, maps: [String: [StageInputs.ScanMap]])]) throws -> Selection {
        let qc = try read(context)
        let refused = sessions.contains { $0.maps.values.contains { $0.contains { $0.refusal != nil } } }
        var selection = Selection(subjects: [], runs: Array(repeating: [], count: sessions.count),
                                  runLabels: Array(repeating: [], count: sessions.count), sessions: sessions.map(\.session),
                                  excluded: qc != nil || refused ? [] : nil)
        for s in subjects {
            var kept: [[URL]] = [], keptRuns: [[String?]] = [], lines: [String] = [], dropped = false
            for (session, maps) in sessions {
                let scans = maps[s] ?? []
                var urls: [URL] = [], runs: [String?] = []
                for scan in scans {
                    var reasons = qc?.entries.filter { $0.covers(subject: s, session: session, run: scan.run) } ?? []
                    // A run clean refused has no map: out whether or not a qc stage is read.
                    if let refusal = scan.refusal, !reasons.contains(refusal) { reasons.append(refusal) }
                    if reasons.isEmpty { urls.append(scan.url); runs.append(scan.run) } else { lines += reasons.map(\.description) }
                }
                if !scans.isEmpty && urls.isEmpty { dropped = true }
                kept.append(urls)
                keptRuns.append(runs)
            }
            if !dropped {
                selection.subjects.append(s)
                for k in kept.indices { selection.runs[k].append(kept[k]); selection.runLabels[k].append(keptRuns[k]) }
                lines = lines.map { $0 + "; the subject's other runs kept" }
            }
            selection.excluded? += lines
        }
        for line in selection.excluded ?? [] { context.log("excluded: \(line)") }
        return selection
    }

    /// An error from building the design after exclusions, with which rules removed whom (the
    /// first 10; the summary of the qc stage, or the task's log, lists all).
    static func explain(_ error: Error, excluded: [String]?) -> Error {
        guard let excluded, !excluded.isEmpty, let e = error as? InputError else { return error }
        let named = excluded.prefix(10).joined(separator: "; ") + (excluded.count > 10 ? "; and \(excluded.count - 10) more (see the task's log)" : "")
        return InputError(path: e.path, field: e.field, e.message + ", once QC excluded \(excluded.count) scan(s): " + named)
    }
}
