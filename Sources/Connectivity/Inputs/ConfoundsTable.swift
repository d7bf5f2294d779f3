import Foundation
import PipelineEngine

/// An fMRIPrep `desc-confounds_timeseries.tsv`: named numeric columns, one row per volume.
///
/// `n/a` (and empty cells) read as NaN. fMRIPrep writes `n/a` in the first row of derivative,
/// framewise-displacement and DVARS columns; `selecting` fills those as nilearn's load_confounds
/// does (the first row takes the second row's value) so that regression sees no NaN.
public struct ConfoundsTable: Sendable {
    public var path: String
    public var names: [String]
    /// Columns by name, each with one value per volume.
    public var columns: [String: [Double]]
    public var rowCount: Int

    public init(path: String, names: [String], columns: [String: [Double]]) {
        self.path = path
        self.names = names
        self.columns = columns
        rowCount = columns.values.first?.count ?? 0
    }

    /// Reads and checks a confounds file: an fMRIPrep TSV (a header, then rows with one number or
    /// n/a per column), or a headerless numeric file (``readHeaderless(_:)``: SPM `rp_*.txt`,
    /// AFNI `.1D`, CSV). Lines may end in LF, CRLF or CR, and the file may start with a UTF-8 byte
    /// order mark (``TSVTable``); in a TSV a blank line before the last row is an error (a row
    /// with one cell).
    ///
    /// With `only`, the table keeps just those columns (the others' cells are not converted to
    /// numbers, nor checked: the spec check's survey checks every cell).
    public static func read(_ path: String, only: Set<String>? = nil) throws -> ConfoundsTable {
        if var headerless = try readHeaderless(path) {
            if let only {
                headerless.names = headerless.names.filter(only.contains)
                headerless.columns = headerless.columns.filter { only.contains($0.key) }
            }
            return headerless
        }
        let table: TSVTable
        do {
            table = try TSVTable.read(path, keepingBlankLines: true)
        } catch let error as TSVTable.ReadError {
            throw InputError(path: path, "cannot read the confounds file: \(error.reason)")
        }
        guard !table.isEmpty, table.header != [""] else {
            throw InputError(path: path, "empty confounds file; expected a header line of column names")
        }
        let names = table.header
        if let duplicate = Dictionary(grouping: names, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw InputError(path: path, field: duplicate, "column name appears twice")
        }
        let kept = names.indices.filter { only?.contains(names[$0]) ?? true }
        var values = [[Double]](repeating: [], count: names.count)
        for row in table.rows {
            let cells = row.cells
            guard cells.count == names.count else {
                throw InputError(path: path, field: "line \(row.line)", "has \(cells.count) cells; the header has \(names.count) columns")
            }
            for c in kept {
                guard let v = value(ofCell: cells[c]) else {
                    throw InputError(path: path, field: names[c], "line \(row.line) holds '\(cells[c])'; expected a number or n/a")
                }
                values[c].append(v)
            }
        }
        var out = ConfoundsTable(path: path, names: kept.map { names[$0] }, columns: Dictionary(uniqueKeysWithValues: kept.map { (names[$0], values[$0]) }))
        out.rowCount = table.rows.count
        return out
    }

    /// A cell's value: NaN for `n/a`, `NaN`, `nan` or an empty cell, else the number it holds;
    /// nil when it is neither (the reader refuses the file; the spec check's survey names it).
    static func value(ofCell cell: String) -> Double? {
        cell == "n/a" || cell == "NaN" || cell == "nan" || cell.isEmpty ? .nan : Double(cell)
    }

    /// Column names matching a pattern with `*` and `?` wildcards (in file order).
    public func names(matching pattern: String) -> [String] {
        names.filter { Self.wildcard(pattern, matches: $0) }
    }

    /// The selected columns as regressors (rows = volumes), with leading NaNs filled from the
    /// first finite value (nilearn fills fMRIPrep's first-row n/a that way).
    ///
    /// - Throws: `InputError` naming the file and the missing column, with close names as hints;
    ///   or a column that is NaN beyond its leading run.
    public func selecting(_ wanted: [String]) throws -> [[Double]] {
        try wanted.map { name in
            guard var column = columns[name] else {
                let hints = names.filter { $0.hasPrefix(String(name.prefix(4))) }.prefix(4)
                var hint = hints.isEmpty ? "" : " (columns that start alike: \(hints.joined(separator: ", ")))"
                if names.first == "col_1" {
                    hint += " (the file has no header line: its columns are col_1 to col_\(names.count))"
                }
                throw InputError(path: path, field: name, "confound column not found\(hint)")
            }
            if let firstFinite = column.firstIndex(where: { !$0.isNaN }) {
                for i in 0..<firstFinite { column[i] = column[firstFinite] }
            }
            if let bad = column.firstIndex(where: { !$0.isFinite }) {
                throw InputError(path: path, field: name, "row \(bad + 1) is \(column[bad]); only leading n/a values are filled")
            }
            return column
        }
    }

    /// Shell-style wildcard match: `*` any run, `?` one character.
    static func wildcard(_ pattern: String, matches name: String) -> Bool {
        let p = Array(pattern), s = Array(name)
        var pi = 0, si = 0, star = -1, mark = 0
        while si < s.count {
            if pi < p.count && (p[pi] == "?" || p[pi] == s[si]) {
                pi += 1; si += 1
            } else if pi < p.count && p[pi] == "*" {
                star = pi; mark = si; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; si = mark
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
