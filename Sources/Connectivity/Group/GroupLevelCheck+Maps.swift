import Foundation
import PipelineEngine

/// Plan-time checks of where a group-level stage reads its maps: a connectivity stage in `from`,
/// or a maps table (`maps`, see `MapsTable`).
extension GroupLevelCheck {
    /// Checks the stage's source of maps, with `sessions` the (session, key) pairs it reads.
    ///
    /// Without `maps`: the seed against the connectivity stage, each session against the cohort,
    /// and that there is an upstream stage at all. With `maps`, each problem at the `maps` line:
    /// the table exists and has the columns, each map file the stage reads exists, each of its
    /// subjects is in the participants table; and each session named is one of the table's, at
    /// its own key. A connectivity stage in `from` is then an error: the stage would not read it.
    func mapsSource(maps: String, seed: String, sessions: [(String, String)]) {
        guard !maps.isEmpty else {
            if stage.from.isEmpty {
                study.report(stage, "from", "no maps to read: list a connectivity stage in from, or give maps, a table of map files")
                return
            }
            // The maps are the z maps of the first stage in from (`StageInputs.zMaps`).
            if let first = stage.from.first, let up = study.stage(first), !(up.kind is ConnectivityKind) {
                let connectivity = stage.from.first { study.stage($0)?.kind is ConnectivityKind }
                study.report(stage, "from", "the stage reads its maps from the first stage in from, and \(first) is a \(up.kind.name) stage, not a "
                             + "connectivity stage: " + (connectivity.map { "list \($0) first" } ?? "list a connectivity stage first, or give maps"))
            }
            self.seed(seed)
            for (session, key) in sessions { self.session(session, at: key) }
            return
        }
        readsMapsTable = true
        for name in stage.from {
            if let up = study.stage(name), up.kind is ConnectivityKind {
                study.report(stage, "from", "the stage reads its maps from maps, not from stage \(name); remove one of them")
            }
        }
        let path = study.path(maps)
        guard case .regular = FileSystem.kind(of: path) else {
            study.report(stage, "maps", "the maps table \(maps) is not a readable file")
            return
        }
        let table: MapsTable
        do { table = try MapsTable.read(path) } catch {
            study.report(stage, "maps", "\(error)")
            return
        }
        var sessionsOK = true
        for (session, key) in sessions where !session.isEmpty && table.hasSessions {
            let label = MapsTable.session(session)
            if !table.sessions.contains(label) {
                sessionsOK = false
                study.report(stage, key, "no map of \(maps) is at session '\(session)'" + EditDistance.didYouMean(label, among: table.sessions)
                             + "; its sessions: \(table.sessions.listed())")
            }
        }
        guard sessionsOK else { return }
        let rows: [MapsTable.Row]
        do { rows = try table.rows(at: sessions.map(\.0)) } catch {
            study.report(stage, "maps", "\(error)")
            return
        }
        // The subjects with a map at each session the stage needs (`requiredSessions`; all of them
        // by default): a subject missing one is left out when the stage runs.
        let needed = Set((requiredSessions ?? sessions.map(\.0)).map(MapsTable.session))
        let held = Dictionary(grouping: rows, by: \.subject).mapValues { Set($0.map { $0.session ?? "" }) }
        mapsSubjects = Set(held.filter { _, at in !table.hasSessions || needed.isSubset(of: at) }.keys)
        var missing: [String] = [], strangers: [String] = []
        for row in rows {
            let file = study.path(MapsTable.specPath(of: row, table: maps))
            if case .regular = FileSystem.kind(of: file) {} else { missing.append("line \(row.line): \(row.path)") }
            if let table = self.table, table.rows[row.subject] == nil { strangers.append("sub-\(row.subject) (line \(row.line))") }
        }
        if !missing.isEmpty {
            study.report(stage, "maps", "\(maps): map file\(missing.count == 1 ? "" : "s") not found: \(missing.listed())")
        }
        if let table = self.table, !strangers.isEmpty {
            study.report(stage, "maps", "\(maps): not in \(Self.name(table)): \(strangers.listed())")
        }
    }
}
