import Numerics

/// A subject-level design matrix built from participants.tsv columns.
///
/// - `group`: a categorical column, coded one indicator column per level (cell means, no
///   intercept), levels sorted; with no group column there is an intercept column `mean`.
/// - `covariates`: numeric columns, demeaned by default (so group columns stay group means).
/// - `interactions`: `"<covariate>:<group>"` gives one slope column per level,
///   `<covariate>:<level>`, each demeaned within its level (and the plain covariate is dropped).
///
/// Errors name the table, the column and the subject: a missing value, a non-number in a
/// covariate, a level with no subject, and a rank-deficient design.
public struct GroupDesign: Sendable {
    public var columnNames: [String]
    public var subjects: [String]
    /// subjects x columns.
    public var matrix: Matrix

    public struct Spec: Sendable, Equatable {
        public var group: String?
        public var covariates: [String]
        public var interactions: [String]
        public var demean: Bool

        public init(group: String? = nil, covariates: [String] = [], interactions: [String] = [], demean: Bool = true) {
            self.group = group
            self.covariates = covariates
            self.interactions = interactions
            self.demean = demean
        }

        /// The covariate of each `interactions` term (`covariate:group`), each once, in order.
        public var interactedCovariates: [String] {
            interactions.compactMap { $0.split(separator: ":").first.map(String.init) }
                .reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        }

        /// Whether an `interactions` term is written `covariate:<group column>`, as the design
        /// reads it.
        public func isWellFormed(interaction term: String) -> Bool {
            let parts = term.split(separator: ":")
            return parts.count == 2 && group != nil && parts[1] == group!
        }
    }

    /// Whether `error`, from building a design of `spec`, depends only on which subjects it is
    /// built on: a rank-deficient design, or a group comparison left with one non-empty level.
    /// (A missing column or value is the table's problem, whoever the subjects.)
    static func isSelectionProblem(_ error: InputError, of spec: Spec) -> Bool {
        error.field == "design" || (spec.group != nil && error.field == spec.group && error.message.hasPrefix("only level"))
    }

    public init(_ spec: Spec, subjects: [String], table: ParticipantsTable) throws {
        self.subjects = subjects
        var columns: [(String, [Double])] = []
        var levelOf: [String] = []
        if let group = spec.group {
            levelOf = try subjects.map { s in
                guard let v = try table.value(s, group) else {
                    throw InputError(path: table.path, field: group, "sub-\(s) has no value")
                }
                return v
            }
            let levels = Set(levelOf).sorted()
            let known = Set(table.rows.values.compactMap { $0[group] }.filter { !$0.isEmpty && $0 != "n/a" }).sorted()
            if levels.count < 2 {
                let missing = known.filter { !levels.contains($0) }
                throw InputError(path: table.path, field: group,
                                 "only level \(levels.first ?? "none") has subjects in this selection; empty: \(missing.joined(separator: ", ")). A group comparison needs at least two non-empty levels")
            }
            for level in levels {
                columns.append((level, levelOf.map { $0 == level ? 1 : 0 }))
            }
        } else {
            columns.append(("mean", [Double](repeating: 1, count: subjects.count)))
        }
        func numbers(_ column: String) throws -> [Double] {
            try subjects.map { s in
                guard let text = try table.value(s, column) else {
                    throw InputError(path: table.path, field: column, "sub-\(s) has no value; exclude the subject or fill it in")
                }
                guard let v = Double(text), v.isFinite else {
                    throw InputError(path: table.path, field: column, "sub-\(s) has '\(text)'; expected a number")
                }
                return v
            }
        }
        let interacted = Set(spec.interactedCovariates)
        for covariate in spec.covariates where !interacted.contains(covariate) {
            var x = try numbers(covariate)
            if spec.demean {
                let m = x.reduce(0, +) / Double(x.count)
                x = x.map { $0 - m }
            }
            columns.append((covariate, x))
        }
        for term in spec.interactions {
            let parts = term.split(separator: ":").map(String.init)
            guard spec.isWellFormed(interaction: term) else {
                throw InputError(path: table.path, field: term, "an interaction is written covariate:\(spec.group ?? "group") (the group column)")
            }
            let x = try numbers(parts[0])
            for level in Set(levelOf).sorted() {
                let members = subjects.indices.filter { levelOf[$0] == level }
                let m = spec.demean ? members.map { x[$0] }.reduce(0, +) / Double(members.count) : 0
                columns.append(("\(parts[0]):\(level)", subjects.indices.map { levelOf[$0] == level ? x[$0] - m : 0 }))
            }
        }
        columnNames = columns.map(\.0)
        matrix = Matrix(columns: columns.map(\.1))
        let rank = QRDecomposition(matrix).rank(tolerance: 1e-10 * max(1, matrix.data.map(abs).max() ?? 1))
        if subjects.count <= columnNames.count || rank < columnNames.count {
            throw InputError(path: table.path, field: "design",
                             "is rank deficient: \(columnNames.count) columns (\(columnNames.joined(separator: ", "))) of rank \(rank) for \(subjects.count) subjects")
        }
    }

    /// Parses a contrast written over the column names:
    /// - `a > b` or `a - b`: +1 on a, −1 on b (after a group level or a covariate);
    /// - `a`: +1 on a (e.g. a covariate `madrs_change_pct`, or `mean`);
    /// - weighted sums `0.5*a + 0.5*b - c`.
    /// - Throws: `InputError` naming the unknown term, with the columns available.
    public func contrast(_ expression: String) throws -> [Double] {
        var weights = [Double](repeating: 0, count: columnNames.count)
        for (name, weight) in try Self.contrastTerms(expression, names: columnNames) {
            guard let index = columnNames.firstIndex(of: name) else {
                throw InputError(path: "contrast", field: expression,
                                 "'\(name)' is not a design column (columns: \(columnNames.joined(separator: ", ")))")
            }
            weights[index] += weight
        }
        if weights.allSatisfy({ $0 == 0 }) {
            throw InputError(path: "contrast", field: expression, "is empty")
        }
        return weights
    }

    /// The terms of a contrast expression (see ``contrast(_:)``): each column name with its
    /// signed weight, in order. Plan-time checks read the names from here too. A name among
    /// `names` (the design's columns) is one term even when it holds `-`, `+` or `>`: a level
    /// `non-anxious` is not `non` minus `anxious`.
    /// - Throws: `InputError` for a weight that is not a number.
    public static func contrastTerms(_ expression: String, names: [String] = []) throws -> [(name: String, weight: Double)] {
        // Names with an operator in them become placeholders first, longest first, where they
        // stand as whole terms (bounded by the start, an end, an operator, a space or a weight's *).
        var protected: [String] = []
        var raw = expression
        for name in names.filter({ $0.contains(where: { "+->".contains($0) }) }).sorted(by: { $0.count > $1.count }) {
            var out = "", rest = Substring(raw)
            while let r = rest.range(of: name) {
                let before = rest[..<r.lowerBound].last ?? out.last, after = rest[r.upperBound...].first
                let bounded = (before.map { "+->* ".contains($0) } ?? true) && (after.map { "+-> ".contains($0) } ?? true)
                out += rest[..<r.lowerBound]
                if bounded {
                    if !protected.contains(name) { protected.append(name) }
                    out += "\u{1}\(protected.firstIndex(of: name)!)\u{1}"
                } else {
                    out += rest[r]
                }
                rest = rest[r.upperBound...]
            }
            raw = out + rest
        }
        var text = raw.replacingOccurrences(of: ">", with: "-").replacingOccurrences(of: " ", with: "")
        if text.hasPrefix("+") { text.removeFirst() }
        var out: [(String, Double)] = []
        var term = "", sign = 1.0
        func flush() throws {
            guard !term.isEmpty else { return }
            var factor = 1.0, name = term
            if let star = term.firstIndex(of: "*") {
                guard let f = Double(term[..<star]) else {
                    throw InputError(path: "contrast", field: expression, "cannot read the weight in '\(term)'")
                }
                factor = f
                name = String(term[term.index(after: star)...])
            }
            if name.hasPrefix("\u{1}"), name.hasSuffix("\u{1}"), let i = Int(name.dropFirst().dropLast()), i < protected.count { name = protected[i] }
            out.append((name, sign * factor))
            term = ""
        }
        for ch in text {
            if ch == "+" || ch == "-", !term.isEmpty, !term.hasSuffix("*") {
                try flush()
                sign = ch == "+" ? 1 : -1
            } else if ch == "-" && term.isEmpty {
                sign = -sign
            } else {
                term.append(ch)
            }
        }
        try flush()
        return out
    }
}

import Foundation
