import Foundation
import PipelineEngine

/// A table of subject maps made elsewhere (CONN, nilearn, an earlier pipeline): the `maps`
/// parameter of the `group`, `longitudinal` and `roi` stage kinds.
///
/// A TSV with columns `participant_id` (`sub-01` or `01`), optionally `session` (`ses-1` or `1`),
/// and `path` (relative to the table's folder, or absolute); other columns are ignored. Labels
/// are BIDS labels (letters and digits). Each (subject, session) appears once.
///
/// The stage's task reads every map it uses as a source file named `map_sub-<s>[_ses-<s>]`, so
/// its content digest is part of the task key: replacing one map reruns only the tasks that use
/// it. The run finds the maps by those names (`urls(_:session:)`); the table itself is read only
/// when the spec is planned.
struct MapsTable: Sendable {
    struct Row: Sendable, Equatable {
        /// Without `sub-`.
        var subject: String
        /// Without `ses-`; nil without a session column.
        var session: String?
        /// As written in the table.
        var path: String
        /// The line of the table (1-based), for messages.
        var line: Int
    }

    /// The table's path, as named in errors.
    var path: String
    var hasSessions: Bool
    var rows: [Row]

    /// Reads a table. - Throws: `InputError` naming the file for an unreadable file, a missing
    /// column, a short row, a label that is not letters and digits, or a (subject, session) twice.
    static func read(_ path: String) throws -> MapsTable {
        let table: TSVTable
        do {
            table = try TSVTable.read(path)
        } catch let error as TSVTable.ReadError {
            throw InputError(path: path, "cannot read the maps table: \(error.reason)")
        }
        return try parse(table, path: path)
    }

    /// A table already read, named `path` in errors.
    static func parse(_ table: TSVTable, path: String) throws -> MapsTable {
        let header = table.header
        for column in ["participant_id", "path"] where !header.contains(column) {
            throw InputError(path: path, field: column, "missing column; the first line must name the columns participant_id, path and optionally session")
        }
        let id = header.firstIndex(of: "participant_id")!, file = header.firstIndex(of: "path")!
        let session = header.firstIndex(of: "session")
        var rows: [Row] = []
        var seen: [String: Int] = [:]
        for row in table.rows {
            let cells = row.cells
            guard cells.count == header.count else {
                throw InputError(path: path, field: "line \(row.line)", "has \(cells.count) cells; the header has \(header.count)")
            }
            let subject = strip(cells[id], "sub-")
            let ses = session.map { strip(cells[$0], "ses-") }
            for (label, column) in [(subject, "participant_id"), (ses, "session")] {
                guard let label else { continue }
                if label.isEmpty || BIDSNames.label(label) != label {
                    throw InputError(path: path, field: "line \(row.line)", "\(column) '\(label)' is not a label of letters and digits")
                }
            }
            guard !cells[file].isEmpty else { throw InputError(path: path, field: "line \(row.line)", "empty path") }
            let name = sourceName(subject: subject, session: ses)
            if let first = seen[name] {
                throw InputError(path: path, field: "line \(row.line)",
                                 "sub-\(subject)\(ses.map { " at session \($0)" } ?? "") already has a map on line \(first)")
            }
            seen[name] = row.line
            rows.append(Row(subject: subject, session: ses, path: cells[file], line: row.line))
        }
        return MapsTable(path: path, hasSessions: session != nil, rows: rows)
    }

    private static func strip(_ label: String, _ prefix: String) -> String {
        label.hasPrefix(prefix) ? String(label.dropFirst(prefix.count)) : label
    }

    /// A session parameter (`1` or `ses-1`) as the table's labels are kept.
    static func session(_ parameter: String) -> String { strip(parameter, "ses-") }

    /// The source name of a subject's map: `map_sub-01` or `map_sub-01_ses-1`.
    static func sourceName(subject: String, session: String?) -> String {
        "map_sub-\(subject)" + (session.map { "_ses-\($0)" } ?? "")
    }

    /// The sessions of the table, sorted.
    var sessions: [String] { Set(rows.compactMap(\.session)).sorted() }

    /// The rows a stage reading maps at `sessions` uses ("" means the table's only map of each
    /// subject). - Throws: `InputError` when a session is named but the table has no session
    /// column, or none is named and a subject has maps at several sessions.
    func rows(at sessions: [String]) throws -> [Row] {
        let wanted = Set(sessions.map(Self.session))
        if !hasSessions {
            if let named = wanted.first(where: { !$0.isEmpty }) {
                throw InputError(path: path, field: "session", "no session column, so no maps at session '\(named)'; add the column or leave the session out")
            }
            return rows
        }
        if wanted.contains("") {
            var first: [String: Row] = [:]
            for row in rows {
                if let other = first[row.subject] {
                    throw InputError(path: path, field: "session",
                                     "sub-\(row.subject) has maps at sessions \(other.session!) and \(row.session!) (lines \(other.line), \(row.line)); name the session the stage reads")
                }
                first[row.subject] = row
            }
            return rows
        }
        return rows.filter { wanted.contains($0.session!) }
    }

    /// A row's map as a path relative to the spec's folder (or absolute): `path` is relative to
    /// the table's folder, `table` the `maps` parameter as written.
    static func specPath(of row: Row, table: String) -> String {
        if row.path.hasPrefix("/") { return row.path }
        let folder = (table as NSString).deletingLastPathComponent
        return folder.isEmpty ? row.path : (folder as NSString).appendingPathComponent(row.path)
    }

    /// The source files of a stage reading the maps of `table` (the `maps` parameter, relative to
    /// `directory`, the spec's folder) at `sessions`: one per map, by `sourceName`.
    /// - Throws: `PipeError` (`.invalidSpec`) with the table's problem.
    static func sources(_ table: String, sessions: [String], directory: URL) throws -> [String: String] {
        let path = table.hasPrefix("/") ? table : directory.appendingPathComponent(table).path
        do {
            var out: [String: String] = [:]
            for row in try read(path).rows(at: sessions) {
                out[sourceName(subject: row.subject, session: row.session)] = specPath(of: row, table: table)
            }
            return out
        } catch let error as InputError {
            throw PipeError(.invalidSpec, "maps: \(error.description)")
        }
    }

    /// At run time, each subject's map at `session` ("" for any) among the task's sources.
    static func urls(_ context: TaskContext, session: String) -> [String: URL] {
        let wanted = Self.session(session)
        var out: [String: URL] = [:]
        for (name, url) in context.sources where name.hasPrefix("map_sub-") {
            let parts = name.dropFirst("map_sub-".count).components(separatedBy: "_ses-")
            if !wanted.isEmpty && (parts.count < 2 || parts[1] != wanted) { continue }
            out[parts[0]] = url
        }
        return out
    }

    /// The label that names a stage's outputs when it reads maps without a `seed`: the table's
    /// file name without `.tsv`, in letters and digits (`maps` if none is left).
    static func label(_ table: String) -> String {
        let name = ((table as NSString).lastPathComponent as NSString).deletingPathExtension
        let label = BIDSNames.label(name)
        return label.isEmpty ? "maps" : label
    }
}
