import Foundation

/// Reads the `"cohort"` section: explicit subject lists, or a participants table (TSV) with
/// include/exclude filters on its columns; plus optional sessions and runs.
///
/// ```json
/// "cohort": {
///   "participants": "participants.tsv", "id": "participant_id",
///   "include": {"group": ["anxious"]}, "exclude": {"participant_id": ["sub-07"]},
///   "sessions": ["1", "2"], "missing_scans": ["sub-12_ses-2"]
/// }
/// ```
/// A row is kept when, for every `include` column, its value is listed, and for no `exclude` column
/// its value is listed. Subject labels drop a `sub-` prefix; ids in filters match with or without it.
/// A subject, session or run listed twice (`"1"` and `"ses-1"` are one session), or a subject on
/// two rows of the table, is an error at the second mention. The table is read by ``TSVTable``
/// (LF, CRLF or CR line ends, an optional UTF-8 byte order mark).
struct CohortReader {
    static let keys = ["subjects", "participants", "id", "include", "exclude", "sessions", "runs", "missing_scans"]
    let directory: URL
    let diagnostics: SpecDiagnostics

    func read(_ node: JSONNode) -> Cohort {
        let d = diagnostics
        guard let members = node.members else {
            d.report(node.location, "cohort", "expected an object, got \(node.shortDescription)")
            return Cohort(subjects: [])
        }
        for m in members where !Self.keys.contains(m.key) {
            d.report(m.keyLocation, "cohort.\(m.key)", "unknown key" + EditDistance.didYouMean(m.key, among: Self.keys))
        }
        var subjects: [String] = []
        var tableSubjects: Set<String>?
        let explicit = node.member("subjects")
        let table = node.member("participants")
        if explicit != nil && table != nil {
            d.report(table!.keyLocation, "cohort", "give either \"subjects\" or \"participants\", not both")
        }
        if let explicit {
            subjects = labels(explicit.value, path: "cohort.subjects") ?? []
        } else if let table {
            (subjects, tableSubjects) = readTable(table.value, node: node)
        } else {
            d.report(node.location, "cohort", "expected \"subjects\" (a list) or \"participants\" (a TSV table)")
        }
        if explicit != nil {
            for k in ["id", "include", "exclude"] {
                if let m = node.member(k) { d.report(m.keyLocation, "cohort.\(k)", "only applies with \"participants\"") }
            }
        }
        var sessions: [String?] = [nil]
        if let s = node.member("sessions") {
            sessions = (labels(s.value, path: "cohort.sessions", prefix: "ses-", noun: "session") ?? []).map { $0 }
            if sessions.isEmpty { d.report(s.value.location, "cohort.sessions", "expected at least one session") }
        }
        var runs: [String?] = [nil]
        if let r = node.member("runs") {
            runs = (labels(r.value, path: "cohort.runs", prefix: "run-", noun: "run") ?? []).map { $0 }
            if runs.isEmpty { d.report(r.value.location, "cohort.runs", "expected at least one run") }
        }
        if subjects.isEmpty && d.issues.isEmpty {
            d.report(node.location, "cohort", "the cohort selects no subjects")
        }
        var missing = Set<String>()
        if let m = node.member("missing_scans") {
            let known = Set(Cohort(subjects: subjects, sessions: sessions, runs: runs).scans.flatMap { scan in
                [scan.label, Scope.scan(subject: scan.subject!, session: scan.session, run: nil).label]
            })
            if case .array(let items) = m.value.kind {
                for (i, item) in items.enumerated() {
                    guard case .string(let label) = item.kind, known.contains(label) else {
                        d.report(item.location, "cohort.missing_scans[\(i)]",
                                 "expected the label of one of the cohort's scans, e.g. \(known.sorted().first ?? "sub-01_ses-1"); got \(item.shortDescription)")
                        continue
                    }
                    missing.insert(label)
                }
            } else {
                d.report(m.value.location, "cohort.missing_scans", "expected a list of scan labels, got \(m.value.shortDescription)")
            }
        }
        var cohort = Cohort(subjects: subjects, sessions: sessions, runs: runs, missing: missing)
        cohort.tableSubjects = tableSubjects
        return cohort
    }

    /// A list of BIDS labels (strings or integers), without `prefix`.
    ///
    /// A label given twice (`"1"` and `"ses-1"` are the same session) is reported at the second
    /// item: two sessions with one label would plan two tasks with one output name.
    private func labels(_ node: JSONNode, path: String, prefix: String = "sub-", noun: String = "subject") -> [String]? {
        guard case .array(let items) = node.kind else {
            diagnostics.report(node.location, path, "expected a list of labels, got \(node.shortDescription)")
            return nil
        }
        var out: [String] = []
        var first: [String: Int] = [:]
        for (i, item) in items.enumerated() {
            var label: String
            switch item.kind {
            case .string(let s): label = s
            case .number(let n) where n.rounded() == n && n >= 0: label = JSONValue.format(number: n)
            default:
                diagnostics.report(item.location, "\(path)[\(i)]", "expected a label string, got \(item.shortDescription)")
                continue
            }
            if label.hasPrefix(prefix) { label.removeFirst(prefix.count) }
            if !Self.isLabel(label) {
                diagnostics.report(item.location, "\(path)[\(i)]", "'\(label)' is not a BIDS label (letters and digits only)")
                continue
            }
            if let earlier = first[label] {
                diagnostics.report(item.location, "\(path)[\(i)]", "a \(noun) is listed twice: \(prefix)\(label) (first at \(path)[\(earlier)])")
                continue
            }
            first[label] = i
            out.append(label)
        }
        return out
    }

    static func isLabel(_ s: String) -> Bool {
        !s.isEmpty && s.unicodeScalars.allSatisfy { ($0.value < 128) && (CharacterSet.alphanumerics.contains($0)) }
    }

    /// The subjects the table keeps, and every subject it has a row for.
    private func readTable(_ pathNode: JSONNode, node: JSONNode) -> ([String], Set<String>) {
        let d = diagnostics
        guard case .string(let rel) = pathNode.kind else {
            d.report(pathNode.location, "cohort.participants", "expected a TSV file path, got \(pathNode.shortDescription)")
            return ([], [])
        }
        let url = rel.hasPrefix("/") ? URL(fileURLWithPath: rel) : directory.appendingPathComponent(rel)
        let table: TSVTable
        do {
            table = try TSVTable.read(url.path)
        } catch {
            d.report(pathNode.location, "cohort.participants", "\(error)")
            return ([], [])
        }
        let tableName = url.lastPathComponent
        guard !table.isEmpty else {
            d.report(pathNode.location, "cohort.participants", "\(tableName) is empty")
            return ([], [])
        }
        let header = table.header
        var idColumn = "participant_id"
        if let idNode = node.member("id") {
            if case .string(let s) = idNode.value.kind { idColumn = s }
            else { d.report(idNode.value.location, "cohort.id", "expected a column name, got \(idNode.value.shortDescription)") }
        }
        guard let idIndex = header.firstIndex(of: idColumn) else {
            d.report(node.member("id")?.value.location ?? pathNode.location, "cohort.id",
                     "\(tableName) has no column '\(idColumn)'" + EditDistance.didYouMean(idColumn, among: header)
                     + "; its columns: " + header.listed() + " (cohort.id names the column of subject ids)")
            return ([], [])
        }
        func filters(_ key: String) -> [String: [String]] {
            guard let f = node.member(key) else { return [:] }
            guard let cols = f.value.members else {
                d.report(f.value.location, "cohort.\(key)", "expected an object of column -> list of values, got \(f.value.shortDescription)")
                return [:]
            }
            var out: [String: [String]] = [:]
            for c in cols {
                guard let ci = header.firstIndex(of: c.key) else {
                    d.report(c.keyLocation, "cohort.\(key).\(c.key)", "\(tableName) has no column '\(c.key)'" + EditDistance.didYouMean(c.key, among: header))
                    continue
                }
                var values: [String] = []
                let items: [JSONNode]
                if case .array(let a) = c.value.kind { items = a } else { items = [c.value] }
                // The values the column holds, for a value no row has (a typo filters out everyone).
                let present = Set(table.rows.compactMap { ci < $0.cells.count ? $0.cells[ci] : nil })
                for item in items {
                    guard let value = ParticipantFilter.text(of: item.plain) else {
                        d.report(item.location, "cohort.\(key).\(c.key)", "expected values, got \(item.shortDescription)")
                        continue
                    }
                    values.append(value)
                    let bare = value.hasPrefix("sub-") ? String(value.dropFirst(4)) : value
                    if !present.contains(value) && !(ci == idIndex && (present.contains(bare) || present.contains("sub-" + bare))) {
                        let sorted = present.sorted()
                        d.report(item.location, "cohort.\(key).\(c.key)", "no row of \(tableName) has \(c.key) '\(value)'"
                                 + EditDistance.didYouMean(value, among: sorted)
                                 + "; its values: " + sorted.listed())
                    }
                }
                out[c.key, default: []] += values
                keyLocations["\(key).\(c.key)"] = c.keyLocation
            }
            return out
        }
        var keyLocations: [String: SourceLocation] = [:]
        // Rows a value differs from only in case or spaces, each such cell reported once.
        var nearMisses: [String: (key: String, listed: String, subjects: [String])] = [:]
        var nearMissOrder: [String] = []
        let filter = ParticipantFilter(include: filters("include"), exclude: filters("exclude"), idColumn: idColumn)
        var subjects: [String] = []
        var firstLine: [String: Int] = [:]
        for row in table.rows {
            let cells = row.cells
            guard cells.count > idIndex else {
                d.report(pathNode.location, "cohort.participants", "\(tableName):\(row.line): expected \(header.count) columns, got \(cells.count)")
                continue
            }
            let rowID = cells[idIndex].hasPrefix("sub-") ? String(cells[idIndex].dropFirst(4)) : cells[idIndex]
            if let earlier = firstLine[rowID] {
                d.report(pathNode.location, "cohort.participants",
                         "\(tableName):\(row.line): a subject is listed twice: sub-\(rowID) (first on line \(earlier))")
                continue
            }
            firstLine[rowID] = row.line
            let cell = { (column: String) in header.firstIndex(of: column).map { $0 < cells.count ? cells[$0] : "" } }
            if let miss = filter.nearMiss(cell) {
                let id = "\(miss.key).\(miss.column)\u{0}\(miss.cell)"
                if nearMisses[id] == nil { nearMissOrder.append(id); nearMisses[id] = ("\(miss.key).\(miss.column)", miss.listed, []) }
                nearMisses[id]!.subjects.append(cells[idIndex])
                continue
            }
            if !filter.keeps(cell) { continue }
            var id = cells[idIndex]
            if id.hasPrefix("sub-") { id.removeFirst(4) }
            guard Self.isLabel(id) else {
                d.report(pathNode.location, "cohort.participants", "\(tableName):\(row.line): '\(cells[idIndex])' is not a BIDS subject label")
                continue
            }
            subjects.append(id)
        }
        for id in nearMissOrder {
            let miss = nearMisses[id]!, cell = String(id.split(separator: "\u{0}", omittingEmptySubsequences: false)[1])
            d.report(keyLocations[miss.key] ?? pathNode.location, "cohort.\(miss.key)",
                     "\(miss.subjects.listed()) \(miss.subjects.count == 1 ? "has" : "have") '\(cell)' in \(tableName), which differs from the listed '\(miss.listed)' "
                     + "only in letter case or spaces, so the filter would decide on a spelling: write them alike")
        }
        return (subjects, Set(firstLine.keys))
    }
}
