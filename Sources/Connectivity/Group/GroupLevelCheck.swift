import Foundation
import Numerics
import PipelineEngine

/// Plan-time checks of a group-level stage (`group`, `longitudinal`, `roi`) against the study,
/// before any task runs: its seed against the seeds its connectivity stage computes, sessions
/// against the cohort, columns and levels against the participants table (its own, or the one a
/// `synth_cohort` stage will write), contrast terms against the design, atlas labels against the
/// label table. Each problem is reported at its spec line with a did-you-mean from the real names.
/// A file that is missing or unreadable is left to the checks that report it (sources, cohort).
final class GroupLevelCheck {
    let stage: StageSpec
    let study: StudyCheck
    /// The participants table the stage will read, when it can be known now.
    let table: ParticipantsTable?
    /// The table's subjects that pass the stage's `include` filters (nil without a table).
    let selected: [String]?
    /// The sessions at which a subject must have a scan for the stage to read it (a group test's
    /// session, a longitudinal test's two, an roi stage's first); empty for a stage that reads a
    /// maps table, whose sessions the cohort does not list.
    var sessions: [String] = []

    init(stage: StageSpec, study: StudyCheck, participants: String, include: [String: [String]]) {
        self.stage = stage
        self.study = study
        var table: ParticipantsTable?
        if !participants.isEmpty {
            let path = study.path(participants)
            if case .regular = FileSystem.kind(of: path) {
                do { table = try ParticipantsTable.read(path) } catch let e as InputError {
                    study.report(stage, "participants", e.description)
                } catch {}
            }
        } else if let synth = Self.synthCohort(of: stage, in: study) {
            table = try? ParticipantsTable.parse(TSVTable(bytes: Array(synth.participantsTSV.utf8)), path: "participants.tsv (synth_cohort)")
        } else {
            study.report(stage, "participants", "no participants table: set participants, or read a synth_cohort stage in from")
        }
        self.table = table
        guard let table else { selected = nil; return }
        for column in include.keys.sorted() {
            let path = "include.\(column)"
            guard table.columns.contains(column) else {
                includeProblem = true
                study.report(stage, path, "\(Self.name(table)) has no column '\(column)'" + EditDistance.didYouMean(column, among: table.columns))
                continue
            }
            let present = Set(table.rows.values.compactMap { $0[column] })
            for value in include[column]! where !present.contains(value) {
                includeProblem = true
                study.report(stage, path, "no row of \(Self.name(table)) has \(column) '\(value)'"
                             + EditDistance.didYouMean(value, among: present.sorted()) + "; its values: \(present.sorted().listed())")
            }
        }
        let filter = ParticipantFilter(include: include)
        var misses: [(path: String, cell: String, listed: String, subjects: [String])] = []
        for s in table.rows.keys.sorted() {
            guard let miss = filter.nearMiss({ table.rows[s]?[$0] }) else { continue }
            let path = "include.\(miss.column)"
            let label = s.hasPrefix("sub-") ? s : "sub-" + s
            if let i = misses.firstIndex(where: { $0.path == path && $0.cell == miss.cell }) { misses[i].subjects.append(label) }
            else { misses.append((path, miss.cell, miss.listed, [label])) }
        }
        for m in misses {
            includeProblem = true
            study.report(stage, m.path, "\(m.subjects.listed()) \(m.subjects.count == 1 ? "has" : "have") '\(m.cell)' in \(Self.name(table)), which differs from "
                         + "the listed '\(m.listed)' only in letter case or spaces, so the filter would decide on a spelling: write them alike")
        }
        selected = table.rows.keys.sorted().filter { s in filter.keeps { table.rows[s]?[$0] } }
    }

    /// The `synth_cohort` stage among `stage`'s upstream stages.
    static func synthCohort(of stage: StageSpec, in study: StudyCheck) -> SynthParameters? {
        for name in stage.from {
            if let up = study.stage(name), up.kind is SynthCohortKind {
                return (up.kind as! SynthCohortKind).typed(up)
            }
        }
        return nil
    }

    static func name(_ table: ParticipantsTable) -> String { (table.path as NSString).lastPathComponent }

    /// The runs whose maps the stage compares (the survey of the `clean` stage behind its
    /// connectivity stage): the selected subjects' at `compared` (default: `sessions`), of the
    /// subjects with a run at each of `sessions` (an roi stage compares its `post` maps too, of
    /// every subject with a `pre` map). Nil for a stage that reads a maps table.
    func comparedRuns(compared: [String]? = nil) -> [(subject: String, session: String, run: CleanKind.RunSurvey.Run)]? {
        guard let name = stage.from.first, let connectivity = study.stage(name), connectivity.kind is ConnectivityKind,
              let cleanName = connectivity.from.first, let clean = study.stage(cleanName), let kind = clean.kind as? CleanKind else { return nil }
        let wanted = selected.map(Set.init), compared = Set(compared ?? sessions)
        let runs = kind.survey(kind.typed(clean), stage: clean, study: study).runs.compactMap { run -> (subject: String, session: String, run: CleanKind.RunSurvey.Run)? in
            guard case .scan(let subject, let session, _) = run.scope, wanted?.contains(subject) ?? true,
                  compared.isEmpty || compared.contains(session ?? "") else { return nil }
            return (subject, session ?? "", run)
        }
        // A longitudinal stage reads only the subjects with a scan at both sessions.
        let held = Dictionary(grouping: runs, by: \.subject).mapValues { Set($0.map(\.session)) }
        return runs.filter { held[$0.subject, default: []].isSuperset(of: sessions) }
    }

    /// The runs whose maps the stage compares must share one grid unless it resamples: else it
    /// stops at the first map on another grid (`GroupMaps.load`), after every run was cleaned.
    /// Their headers say so now; a stage that reads a maps table is left to run time.
    func grids(resampling: GroupMaps.Resampling, maps: String, compared: [String]? = nil) {
        guard resampling == .none, maps.isEmpty, let runs = comparedRuns(compared: compared) else { return }
        let grids = RegionGridCheck(runs: runs.map(\.run)).grids
        guard grids.count > 1 else { return }
        let described = grids.map { g in
            "\(g.grid.description): " + (g.runs.count <= 3 ? g.runs.map(\.label).joined(separator: ", ") : "\(g.runs.count) runs (\(g.runs[0].label), ...)")
        }
        study.report(stage, "resample", "the runs it compares are on \(grids.count) grids, \(described.joined(separator: "; ")); "
                     + "their maps are compared voxel by voxel, so set \"resample\": \"linear\" (or \"nearest\") to resample them to the first's grid "
                     + "(maps already on it are left as they are), or give every run the same grid"
                     + (stage.from.contains { study.stage($0)?.kind is QCKind } ? " (a run the qc stage will exclude is counted too)" : ""))
    }

    /// `seed` must be one of the seeds of the connectivity stage read first in `from`.
    func seed(_ seed: String) {
        guard let name = stage.from.first, let up = study.stage(name), let kind = up.kind as? ConnectivityKind else { return }
        let seeds = kind.typed(up).seedNames
        if !seeds.contains(seed) {
            study.report(stage, "seed", "stage \(name) computes no seed '\(seed)'" + EditDistance.didYouMean(seed, among: seeds)
                         + "; its seeds: \(seeds.listed())")
        }
    }

    /// A session named at `key` must be one of the cohort's.
    func session(_ session: String, at key: String) {
        let sessions = study.spec.cohort.sessions.compactMap { $0 }
        guard !session.isEmpty else {
            // One map per subject: with several sessions, which one must be said.
            if sessions.count > 1 {
                study.report(stage, key, "the cohort has sessions \(sessions.listed()); name the one to test (each subject has a map at each)")
            }
            return
        }
        let label = MapsTable.session(session)
        if sessions.isEmpty {
            study.report(stage, key, "the cohort has no sessions; remove \(key) or add cohort.sessions")
        } else if !sessions.contains(label) {
            study.report(stage, key, "'\(session)' is not one of the cohort's sessions" + EditDistance.didYouMean(label, among: sessions)
                         + "; sessions: \(sessions.listed())")
        } else if label != session {
            // The stage finds its scans' maps by the label, as cohort.sessions writes it: with the
            // prefix it would find none when it ran.
            study.report(stage, key, "write the session's label without 'ses-': '\(label)', as cohort.sessions does")
        }
    }

    /// Each column must exist in the table.
    func columns(_ columns: [String], at key: String) {
        guard let table else { return }
        for (i, column) in columns.enumerated() where !table.columns.contains(column) {
            study.report(stage, columns.count > 1 || key == "covariates" || key == "clinical" ? "\(key)[\(i)]" : key,
                         "\(Self.name(table)) has no column '\(column)'" + EditDistance.didYouMean(column, among: table.columns)
                         + "; columns: \(table.columns.listed())")
        }
    }

    /// The values a column holds among the selected subjects.
    func levels(of column: String) -> [String]? {
        guard let table, let selected, table.columns.contains(column) else { return nil }
        return Set(selected.compactMap { table.rows[$0]?[column] }.filter { !$0.isEmpty && $0 != "n/a" }).sorted()
    }

    /// Each level must be held by a selected subject in `column`.
    func levels(_ wanted: [String], of column: String, at key: String) {
        guard let present = levels(of: column), !present.isEmpty else { return }
        for (i, level) in wanted.enumerated() where !present.contains(level) {
            study.report(stage, key == "paired" ? "\(key)[\(i)]" : key,
                         "no row of \(Self.name(table!)) that the stage includes has \(column) '\(level)'" + EditDistance.didYouMean(level, among: present)
                         + "; levels: \(present.listed())")
        }
    }

    /// The design's columns exist, every contrast term names a design column, and (with `fit`)
    /// the design can be fitted on the stage's subjects (`fits`).
    func design(_ spec: GroupDesign.Spec, contrasts: [String], what: String = "the design", fit: Bool = true) {
        if let group = spec.group { columns([group], at: "group") }
        columns(spec.covariates, at: "covariates")
        let interacted = Set(spec.interactedCovariates)
        // How a term is written does not depend on the data (its columns do: run time).
        for (i, term) in spec.interactions.enumerated() where !spec.isWellFormed(interaction: term) {
            study.report(stage, "interactions[\(i)]", "'\(term)': an interaction is written covariate:\(spec.group ?? "<group column>"), "
                         + (spec.group == nil ? "and needs group (the column whose levels get a slope each)" : "the second part the group column"))
        }
        columns(Array(interacted).sorted(), at: "interactions")
        // With a design column missing (reported above), the contrasts cannot be checked.
        guard let table, ([spec.group].compactMap { $0 } + spec.covariates + interacted).allSatisfy(table.columns.contains) else { return }
        var names: [String] = []
        if let group = spec.group { names += levels(of: group) ?? [] } else { names.append("mean") }
        names += spec.covariates.filter { !interacted.contains($0) && table.columns.contains($0) }
        for term in spec.interactions {
            let parts = term.split(separator: ":").map(String.init)
            if parts.count == 2, let group = spec.group { names += (levels(of: group) ?? []).map { "\(parts[0]):\($0)" } }
        }
        for (i, contrast) in contrasts.enumerated() { terms(contrast, at: "contrasts[\(i)]", among: names) }
        // A level that included rows hold but no subject the stage can read (none has a scan at
        // its session, say) is no column of the design the stage fits: fewer subjects never add
        // a level, so a contrast naming it would stop the stage after its permutations.
        if let group = spec.group, !contrastProblem, let candidates, !candidates.isEmpty, let included = levels(of: group) {
            let held = Set(candidates.compactMap { table.rows[$0]?[group] })
            for (i, contrast) in contrasts.enumerated() {
                guard let terms = try? GroupDesign.contrastTerms(contrast, names: names) else { continue }
                for (name, _) in terms where included.contains(name) && !held.contains(name) {
                    contrastProblem = true
                    study.report(stage, "contrasts[\(i)]", "level '\(name)' of \(group) in \"\(contrast)\" has no subject the stage can read (included"
                                 + (sessions.isEmpty ? "" : ", with a scan at \(sessions.joined(separator: " and "))") + ")\(foreseenNote), so the design has no such column")
                }
            }
        }
        designColumns = names
        // With interactions, the columns depend on which levels keep subjects (run time).
        weighable = spec.interactions.isEmpty
        for (i, contrast) in contrasts.enumerated() {
            if let w = weights(contrast), w.allSatisfy({ $0 == 0 }) {
                contrastProblem = true
                study.report(stage, "contrasts[\(i)]", "\"\(contrast)\" is empty: its weights cancel on every column; a contrast needs a non-zero weight")
            }
        }
        var design: [(column: String, key: String, numeric: Bool)] = spec.group.map { [($0, "group", false)] } ?? []
        for (i, covariate) in spec.covariates.enumerated() { design.append((covariate, "covariates[\(i)]", true)) }
        for covariate in interacted.sorted() where !spec.covariates.contains(covariate) { design.append((covariate, "interactions", true)) }
        for (column, key, numeric) in design { values(of: column, at: key, numeric: numeric) }
        // A contrast naming no design column (reported above) is the mistake to mend first.
        if fit && !contrasts.isEmpty && !contrastProblem {
            fits(spec, at: spec.covariates.isEmpty ? (spec.group == nil ? "contrasts" : "group") : "covariates", what: what)
        }
    }

    /// The cohort's subjects that pass the stage's `include` and have a scan at each of `sessions`
    /// (nil without a table). Without a maps table, a superset of those the stage reads, which can
    /// only lose subjects (to QC, or a refused run).
    var cohortSubjects: [String]? {
        guard table != nil, let selected else { return nil }
        let cohort = study.spec.cohort
        let included = Set(selected)
        return cohort.subjects.filter { s in
            guard included.contains(s) else { return false }
            let scans = cohort.scans(of: s).filter { foreseen[$0.label] == nil }  // a run QC excludes is not read
            return !scans.isEmpty && sessions.allSatisfy { session in scans.contains { $0.session == session } }
        }
    }

    /// The runs the stage's qc stage will exclude for motion, by label, with the rules they break
    /// (`QCKind.foreseenExclusions`); empty without a qc stage in `from`.
    lazy var foreseen: [String: String] = {
        guard let qc = stage.from.lazy.compactMap({ self.study.stage($0) }).first(where: { $0.kind is QCKind }) else { return [:] }
        return QCKind.foreseenExclusions(qc, study: study)
    }()

    /// "; QC will exclude sub-03_ses-baseline (max_mean_fd 0.21 (threshold 0.2))": the foreseen
    /// exclusions among the included subjects' runs at the stage's sessions, for a message about
    /// the subjects left; "" when there are none.
    var foreseenNote: String {
        guard !foreseen.isEmpty, let selected else { return "" }
        let included = Set(selected), wanted = Set(sessions)
        let runs = study.spec.cohort.scans.filter { scan in
            foreseen[scan.label] != nil && included.contains(scan.subject ?? "") && (wanted.isEmpty || wanted.contains(scan.session ?? ""))
        }
        guard !runs.isEmpty else { return "" }
        return "; QC will exclude " + runs.map { "\($0.label) (\(foreseen[$0.label]!))" }.listed(shown: 5)
    }

    /// Every subject whose maps the stage reads must have a row in its participants table: the
    /// stage stops at the first without one (`StageInputs.filter`), after every scan was
    /// processed. Those are the cohort's subjects with a scan at one of `read` (the sessions whose
    /// maps the stage filters by the table; "" for any). Reported once, at `participants`.
    func everySubjectInTable(read: [String]) {
        guard let table, !readsMapsTable, !stage.from.isEmpty else { return }
        let cohort = study.spec.cohort
        let labels = Set(read.map(MapsTable.session))
        let missing = cohort.subjects.filter { s in
            table.rows[s] == nil && cohort.scans(of: s).contains { scan in
                guard case .scan(_, let session, _) = scan else { return false }
                return labels.contains("") || labels.contains(session ?? "")
            }
        }
        guard !missing.isEmpty else { return }
        study.report(stage, "participants", "\(Self.name(table)) has no row for \(missing.count) of the cohort's subjects whose maps the stage reads: "
                     + (missing.map { "sub-\($0)" }).listed() + "; the stage would stop at the first of them after every scan was processed: "
                     + "add their rows, or leave them out of the cohort")
    }

    /// Whether the stage reads a maps table (`mapsSource`): its subjects are the table's, which the
    /// cohort need not list.
    var readsMapsTable = false
    /// With a maps table: the subjects with a map at each of `requiredSessions` (`mapsSource`).
    var mapsSubjects: Set<String> = []
    /// The sessions at which a subject needs a map to be read, when a stage reads a maps table
    /// (nil: every session given to `mapsSource`; an roi stage needs only `pre`).
    var requiredSessions: [String]?
    /// Whether an `include` filter named a column or value the table lacks (reported).
    private(set) var includeProblem = false

    /// Reports, at `key`, that the stage can read no subject at all, unless a mistake reported
    /// elsewhere explains it (an `include` column or value the table lacks, a session the cohort
    /// lacks): `include` values that each occur but never in one row, say, or no included subject
    /// with a scan at the stage's sessions. The stage would stop after every scan was processed.
    /// - Returns: whether it reported.
    @discardableResult
    func noSubjects(at key: String) -> Bool {
        let cohortSessions = Set(study.spec.cohort.sessions.compactMap { $0 })
        guard !includeProblem, let candidates, candidates.isEmpty, sessions.allSatisfy(cohortSessions.contains) else { return false }
        study.report(stage, key, "the stage can read no subject: no subject of the cohort is included"
                     + (sessions.isEmpty ? "" : " and has a scan at \(sessions.joined(separator: " and "))")
                     + (selected?.isEmpty == true ? " (no row of \(Self.name(table!)) passes every include filter)" : "") + foreseenNote)
        return true
    }

    /// The subjects the stage can read, a superset of those it reads (`cohortSubjects`); nil with a
    /// maps table, or without a participants table.
    var candidates: [String]? { readsMapsTable ? nil : cohortSubjects }

    /// The subjects the stage may use: `cohortSubjects`, or with a maps table the included
    /// subjects with a map at each session the stage needs (`mapsSubjects`); nil without a
    /// participants table.
    var usable: [String]? { readsMapsTable ? selected?.filter(mapsSubjects.contains) : cohortSubjects }

    /// Whether `fits` reported a design problem (one mistake is reported once, not once per model).
    private(set) var designReported = false

    /// Every subject the stage may use has a value in `column` (unless `gaps`, for a stage that
    /// leaves a missing value out pairwise), and a number when `numeric`, as the design matrix
    /// needs: a gap or a word would otherwise stop the stage after every scan was processed. The
    /// subjects: `cohortSubjects`, or with a maps table the included subjects with a map at each
    /// session the stage needs (`mapsSubjects`).
    /// - Parameters:
    ///   - subjects: the subjects to check instead (another stage's `usable`, whose design is
    ///     built from this stage's table), with `reason` saying why in the message.
    func values(of column: String, at key: String, numeric: Bool, gaps: Bool = false, subjects other: [String]? = nil, reason: String = "") {
        guard let table, let candidates = other ?? usable, table.columns.contains(column) else { return }
        var empty: [String] = [], notNumbers: [String] = []
        for s in candidates {
            guard let text = try? table.value(s, column) else { empty.append("sub-\(s)"); continue }
            if numeric, !(Double(text).map(\.isFinite) ?? false) { notNumbers.append("sub-\(s) has '\(text)'") }
        }
        let name = Self.name(table)
        if !empty.isEmpty && !gaps {
            study.report(stage, key, "in \(name)'s column \(column), " + empty.listed()
                         + (!reason.isEmpty ? (empty.count == 1 ? " has no value" : " have no value") + reason
                            : empty.count == 1 ? " has no value; exclude the subject or fill it in" : " have no value; exclude them or fill them in"))
        }
        if !notNumbers.isEmpty {
            study.report(stage, key, "in \(name)'s column \(column), " + notNumbers.listed() + "; expected a number" + reason)
        }
    }

    /// The design can be fitted on the subjects the stage can read (`candidates`, or those of them
    /// `subset` keeps): at least two group levels, more subjects than columns, and full rank. The
    /// stage reads these subjects or fewer, and without interactions fewer rows never make a
    /// design estimable (demeaning keeps the column space), so a design that fails now would fail
    /// when the stage runs, after every scan was processed. A design with interactions is left to
    /// run time: its columns depend on which levels keep subjects, which QC can change. A missing
    /// or non-numeric value is left to `values(of:)`, which reports it. Once a problem is reported,
    /// later calls report nothing (`designReported`).
    /// - Parameters:
    ///   - key: where to report; a covariate that is constant among the subjects is reported at
    ///     its own `covariates[i]`, a single group level at `group`.
    ///   - what: the model, for the message ("the design", "the paired test").
    ///   - among: the subset's name, e.g. "of level 'responder' ".
    func fits(_ spec: GroupDesign.Spec, subset: ((String) -> Bool)? = nil, among: String = "", at key: String, what: String = "the design") {
        guard !designReported, spec.interactions.isEmpty, let table, let all = candidates, !all.isEmpty else { return }
        let subjects = subset.map { all.filter($0) } ?? all
        let read = "the \(subjects.count) subject\(subjects.count == 1 ? "" : "s") \(among)it can read"
            + (sessions.isEmpty ? "" : " (included, with a scan at \(sessions.joined(separator: " and ")); QC can only remove more)") + foreseenNote
        do {
            _ = try GroupDesign(spec, subjects: subjects, table: table)
        } catch let e as InputError where GroupDesign.isSelectionProblem(e, of: spec) {
            designReported = true
            // A covariate with one value among these subjects is a column of zeros once demeaned.
            var constant: [(Int, String, String)] = []
            for (i, covariate) in spec.covariates.enumerated() {
                let values = Set(subjects.compactMap { try? table.value($0, covariate) }.compactMap(Double.init))
                if values.count == 1, let v = values.first { constant.append((i, covariate, JSONValue.format(number: v))) }
            }
            if e.field != "design" {
                study.report(stage, "group", "\(what) cannot be fitted on \(read): \(e.message)")
            } else if constant.isEmpty {
                study.report(stage, key, "\(what) cannot be fitted on \(read): it \(e.message)")
            }
            for (i, covariate, value) in constant where e.field == "design" {
                study.report(stage, "covariates[\(i)]", "\(covariate) is \(value) for each of \(read), so \(what) cannot estimate it: "
                             + "it \(e.message); remove the covariate, or include subjects in whom it varies")
            }
        } catch {}
    }

    private var designColumns: [String] = []
    /// Whether the design's columns are known now (`designColumns`: no interactions).
    private var weighable = false
    /// Whether a contrast term named no design column.
    private var contrastProblem = false

    /// A contrast's weights on `designColumns`, as `GroupDesign.contrast` builds them; nil when
    /// they cannot be known now (interactions) or a term is not a column (reported).
    private func weights(_ expression: String) -> [Double]? {
        guard weighable, let terms = try? GroupDesign.contrastTerms(expression, names: designColumns) else { return nil }
        var w = [Double](repeating: 0, count: designColumns.count)
        for (name, weight) in terms {
            guard let i = designColumns.firstIndex(of: name) else { return nil }
            w[i] += weight
        }
        return w
    }

    /// Every term of the F-tests' contrasts names a design column, and each test's contrasts are
    /// linearly independent: a contrast that is zero or a combination of the test's earlier ones
    /// makes the F contrast matrix rank deficient, which stopped the stage after every t
    /// contrast's permutations.
    func fTests(_ tests: [[String]]) {
        guard !designColumns.isEmpty else { return }
        for (i, test) in tests.enumerated() {
            var problem = false
            for (j, contrast) in test.enumerated() {
                let before = contrastProblem
                terms(contrast, at: "f_tests[\(i)][\(j)]", among: designColumns)
                if contrastProblem != before { problem = true }
            }
            guard !problem else { continue }
            let rows = test.compactMap(weights)
            guard rows.count == test.count, let j = FContrastPartition.firstDependentRow(rows) else { continue }
            let contrast = test[j]
            study.report(stage, "f_tests[\(i)][\(j)]", rows[j].allSatisfy { $0 == 0 }
                ? "\"\(contrast)\" is empty: its weights cancel on every column"
                : "\"\(contrast)\" is a combination of the test's contrasts before it (\(test[..<j].map { "\"\($0)\"" }.joined(separator: ", "))), "
                  + "so the F contrast matrix is rank deficient; remove it (\(j) independent contrast\(j == 1 ? "" : "s") span the same test)")
        }
    }

    private func terms(_ expression: String, at key: String, among names: [String]) {
        do {
            for (name, _) in try GroupDesign.contrastTerms(expression, names: names) where !names.contains(name) {
                contrastProblem = true
                study.report(stage, key, "'\(name)' in \"\(expression)\" is not a column of the design"
                             + EditDistance.didYouMean(name, among: names) + "; columns: \(names.listed())")
            }
        } catch let e as InputError {
            contrastProblem = true
            study.report(stage, key, e.description)
        } catch {}
    }

    /// Atlas labels (`(label, key)`) against the stage's label table, or the synth atlas.
    func atlasLabels(_ labels: [(String, String)], atlas: String, table: String) {
        guard !labels.isEmpty else { return }
        if let names = AtlasNames.names(table: table, atlas: atlas, stage: stage, study: study, key: "atlas_labels") {
            for (label, key) in labels { AtlasNames.check(label, at: key, names: names, stage: stage, study: study) }
        }
    }
}
