import Foundation

/// The one rule for selecting rows of a participants table by their values, shared by the
/// cohort (`cohort.include`/`exclude`) and the group-level stages (`include`).
///
/// A row is kept when, for every `include` column, its cell is one of the listed values, and for
/// no `exclude` column it is. Cells compare as text, exactly: `n/a` and the empty cell are values
/// like any other. Values written in the spec as numbers or booleans compare as their text (`1`,
/// `2.5`, `true`). In the id column, `sub-07` and `07` name the same subject.
public struct ParticipantFilter: Sendable, Equatable {
    /// Column → the values a kept row may hold.
    public var include: [String: Set<String>]
    /// Column → the values a kept row may not hold.
    public var exclude: [String: Set<String>]

    public init(include: [String: [String]], exclude: [String: [String]] = [:], idColumn: String = "participant_id") {
        func sets(_ d: [String: [String]]) -> [String: Set<String>] {
            var out: [String: Set<String>] = [:]
            for (column, values) in d {
                var set = Set(values)
                if column == idColumn {
                    for v in values { set.insert(v.hasPrefix("sub-") ? String(v.dropFirst(4)) : "sub-" + v) }
                }
                out[column] = set
            }
            return out
        }
        self.include = sets(include)
        self.exclude = sets(exclude)
    }

    /// Whether a row is kept; `cell(column)` gives its cell (nil for a column it lacks, which no
    /// listed value matches).
    public func keeps(_ cell: (String) -> String?) -> Bool {
        include.allSatisfy { column, values in cell(column).map(values.contains) ?? false }
            && !exclude.contains { column, values in cell(column).map(values.contains) ?? false }
    }

    /// A cell no listed value matches exactly that one does but for letter case or spaces at its
    /// ends (`Anxious`, `anxious ` for `anxious`), per filter column, with that value: a row the
    /// filter would keep or drop without a word against what was meant. Nil when there is none.
    public func nearMiss(_ cell: (String) -> String?) -> (key: String, column: String, cell: String, listed: String)? {
        func fold(_ s: String) -> String { s.trimmingCharacters(in: .whitespaces).lowercased() }
        for (key, filters) in [("include", include), ("exclude", exclude)] {
            for column in filters.keys.sorted() {
                guard let value = cell(column), !filters[column]!.contains(value) else { continue }
                if let listed = filters[column]!.sorted().first(where: { fold($0) == fold(value) }) { return (key, column, value, listed) }
            }
        }
        return nil
    }

    /// A spec value (string, number or bool) as the text a cell would hold; nil for other types.
    public static func text(of value: JSONValue) -> String? {
        switch value {
        case .string(let s): return s
        case .number(let n): return JSONValue.format(number: n)
        case .bool(let b): return b ? "true" : "false"
        default: return nil
        }
    }
}
