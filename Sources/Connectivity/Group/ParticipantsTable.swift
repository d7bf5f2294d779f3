import Foundation
import PipelineEngine

/// A BIDS `participants.tsv`: one row per subject, keyed by `participant_id` (`sub-<label>`).
public struct ParticipantsTable: Sendable {
    public var path: String
    public var columns: [String]
    /// Rows by subject label without `sub-`.
    public var rows: [String: [String: String]]

    public init(path: String, columns: [String], rows: [String: [String: String]]) {
        self.path = path
        self.columns = columns
        self.rows = rows
    }

    /// Reads a table (LF, CRLF or CR line ends, an optional UTF-8 byte order mark; blank lines
    /// skipped). Column names must differ; every row must have one cell per column and a distinct
    /// `participant_id`.
    public static func read(_ path: String) throws -> ParticipantsTable {
        let table: TSVTable
        do {
            table = try TSVTable.read(path)
        } catch let error as TSVTable.ReadError {
            throw InputError(path: path, "cannot read the participants table: \(error.reason)")
        }
        return try parse(table, path: path)
    }

    /// A table already read (or made in memory, as the synthetic cohort's), named `path` in errors.
    public static func parse(_ table: TSVTable, path: String) throws -> ParticipantsTable {
        let header = table.header
        guard let idColumn = header.firstIndex(of: "participant_id") else {
            throw InputError(path: path, field: "participant_id", "missing; the first line must name the columns, one of them participant_id")
        }
        if let twice = header.indices.first(where: { header[..<$0].contains(header[$0]) }) {
            throw InputError(path: path, field: header[twice], "column name appears twice")
        }
        var rows: [String: [String: String]] = [:]
        for row in table.rows {
            let cells = row.cells
            guard cells.count == header.count else {
                throw InputError(path: path, field: "line \(row.line)", "has \(cells.count) cells; the header has \(header.count)")
            }
            let id = cells[idColumn].hasPrefix("sub-") ? String(cells[idColumn].dropFirst(4)) : cells[idColumn]
            if rows[id] != nil { throw InputError(path: path, field: "participant_id", "sub-\(id) appears twice") }
            rows[id] = Dictionary(uniqueKeysWithValues: zip(header, cells))
        }
        return ParticipantsTable(path: path, columns: header, rows: rows)
    }

    /// The value of `column` for a subject; nil when the cell is empty or `n/a`.
    public func value(_ subject: String, _ column: String) throws -> String? {
        guard columns.contains(column) else {
            throw InputError(path: path, field: column, "no such column (columns: \(columns.joined(separator: ", ")))")
        }
        guard let row = rows[subject] else { throw InputError(path: path, field: "participant_id", "sub-\(subject) is not in the table") }
        let v = row[column] ?? ""
        return v.isEmpty || v == "n/a" ? nil : v
    }
}
