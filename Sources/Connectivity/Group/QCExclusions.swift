import Foundation
import PipelineEngine

/// The scans a `qc` stage excluded, as a group-level stage that reads it applies them: every
/// excluded scan with the rules it failed. A group-level stage with a `qc` stage in `from` drops
/// those scans (a longitudinal test drops the subject when either session is excluded) and lists
/// them, with the rule, value and threshold, in its summary: no subject leaves a group result
/// without a row saying why.
struct QCExclusions: Sendable {
    /// One excluded scan and why.
    struct Entry: Sendable, Equatable {
        var subject: String
        var session: String?
        var rule: String
        var value: String
        var threshold: String

        var description: String { "sub-\(subject)\(session.map { " ses-\($0)" } ?? ""): \(rule) \(value) (threshold \(threshold))" }
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
            return Entry(subject: id, session: r.cells[1] == "n/a" ? nil : r.cells[1], rule: r.cells[3], value: r.cells[4], threshold: r.cells[5])
        })
    }

    /// Why a subject's scans at `sessions` are excluded (empty: not excluded). A nil session in
    /// `sessions` stands for any session.
    func reasons(subject: String, sessions: [String?]) -> [Entry] {
        entries.filter { e in
            e.subject == subject && sessions.contains { s in s == nil || e.session == nil || e.session == s }
        }
    }

    /// Applies the exclusions to `subjects` at `sessions`: the subjects kept, and a line per
    /// excluded scan (logged in the task's log too).
    static func apply(_ context: TaskContext, to subjects: [String], sessions: [String?]) throws -> (kept: [String], excluded: [String]?) {
        guard let qc = try read(context) else { return (subjects, nil) }
        var kept: [String] = [], excluded: [String] = []
        for s in subjects {
            let reasons = qc.reasons(subject: s, sessions: sessions)
            if reasons.isEmpty { kept.append(s) } else { excluded += reasons.map(\.description) }
        }
        for line in excluded { context.log("excluded by qc: \(line)") }
        return (kept, excluded)
    }

    /// An error from building the design after exclusions, with which rules removed whom.
    static func explain(_ error: Error, excluded: [String]?) -> Error {
        guard let excluded, !excluded.isEmpty, let e = error as? InputError else { return error }
        return InputError(path: e.path, field: e.field, e.message + " after the qc stage excluded \(excluded.count) scan(s): " + excluded.joined(separator: "; "))
    }
}
