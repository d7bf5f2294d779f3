import Foundation
import NIfTI
import Numerics
import PipelineEngine

/// What the group-level stage kinds (`group`, `longitudinal`, `roi`) read from their inputs.
enum StageInputs {
    /// Reads the NIfTI images at `urls` as Float32, as many at once as the thread budget allows,
    /// and hands each to `body` in the order of `urls` (so sums over them do not depend on the
    /// thread count). At most one batch of images is held at a time.
    static func forEachImage(_ urls: [URL], _ body: (URL, NIfTIImage<Float>) throws -> Void) throws {
        let batch = max(1, ThreadBudget.current)
        for start in stride(from: 0, to: urls.count, by: batch) {
            let chunk = Array(urls[start..<min(urls.count, start + batch)])
            let images = Parallel.map(chunk, block: 1) { url in Result { try NIfTIFile.read(url.path, as: Float.self) } }
            for (url, image) in zip(chunk, images) { try body(url, try image.get()) }
        }
    }

    /// The participants table: the `participants` parameter, else the `participants.tsv` of an
    /// upstream stage (a `synth_cohort` stage).
    static func participants(_ context: TaskContext, stage: String) throws -> ParticipantsTable {
        let upstream = context.inputs.lazy.compactMap { $0.files["participants.tsv"] }.first
        guard let url = context.sources["participants"] ?? upstream else {
            throw InputError(path: "stage \(stage)", field: "participants",
                             "no participants table: set participants, or read a synth_cohort stage")
        }
        return try ParticipantsTable.read(url.path)
    }

    /// The atlas named by `atlas`/`atlas_labels`, else the one an upstream stage provides.
    static func atlas(_ context: TaskContext) throws -> AtlasLabels? {
        let files = context.inputs.first { $0.files["atlas.nii.gz"] != nil }?.files ?? [:]
        return try (context.sources["atlas"] ?? files["atlas.nii.gz"]).map {
            try AtlasLabels.read(image: $0.path, table: (context.sources["atlas_labels"] ?? files["atlas.tsv"])?.path)
        }
    }

    /// One scan's map: its run (nil without a run entity) and file. A run `clean` refused has no
    /// map: `refusal` says why, and `QCExclusions.select` leaves it out with that line.
    struct ScanMap: Sendable, Equatable {
        var run: String?
        var url: URL
        var refusal: QCExclusions.Entry? = nil
    }

    /// Each subject's Fisher z maps of `seed` at `session` ("" when the cohort has at most one
    /// session, checked at plan time) from the connectivity stage at `fromIndex`: one per run, in
    /// run order; a run `clean` refused comes with its refusal instead of a map.
    /// - Throws: `InputError` when a scan has no map for the seed.
    static func zMaps(_ context: TaskContext, fromIndex: Int = 0, seed: String, session: String) throws -> [String: [ScanMap]] {
        var maps: [String: [ScanMap]] = [:]
        for input in context.inputs where input.fromIndex == fromIndex {
            guard let subject = input.scope.subject else { continue }
            if !session.isEmpty && input.scope.session != session { continue }
            if let url = input.files.first(where: { $0.key.hasSuffix(ConnectivityKind.refusedFile) })?.value {
                let refusal = try OutputJSON.decode(CleanedScan.Refusal.self, from: url, as: "a connectivity stage's \(ConnectivityKind.refusedFile)")
                maps[subject, default: []].append(ScanMap(run: input.scope.run, url: url, refusal: QCExclusions.Entry(
                    subject: subject, session: input.scope.session, run: input.scope.run, rule: refusal.exclusionRule,
                    value: String(refusal.value), threshold: String(refusal.threshold))))
                continue
            }
            guard let map = input.files.first(where: { $0.key.hasSuffix("_seed-\(seed)_stat-z_connectivity.nii.gz") }) else {
                throw InputError(path: input.scope.label, field: "seed", "no z map for seed '\(seed)' (is it one of the connectivity stage's seeds?)")
            }
            maps[subject, default: []].append(ScanMap(run: input.scope.run, url: map.value))
        }
        return maps
    }

    /// Each subject's maps at `session` ("" for any): from the stage's maps table (`maps`, its
    /// maps being the task's sources; one per subject and session) when it has one, else the
    /// connectivity stage's z maps of `seed`, one per run.
    static func maps(_ context: TaskContext, table: String, seed: String, session: String) throws -> [String: [ScanMap]] {
        table.isEmpty ? try zMaps(context, seed: seed, session: session)
            : MapsTable.urls(context, session: session).mapValues { [ScanMap(run: nil, url: $0)] }
    }

    /// The subjects of `table` that `include` keeps with a map at some session but none among
    /// `read` (the maps the stage reads, by subject): those it leaves out for want of a map, to be
    /// named rather than dropped silently.
    static func includedWithoutMap(_ context: TaskContext, table mapsTable: String, seed: String, read: [String: [ScanMap]],
                                   include: [String: [String]], participants: ParticipantsTable) throws -> [String] {
        let elsewhere = try maps(context, table: mapsTable, seed: seed, session: "").keys
            .filter { read[$0] == nil && participants.rows[$0] != nil }.sorted()
        return try filter(elsewhere, include: include, table: participants)
    }

    /// The keys the group-level stages (`group`, `longitudinal`, `roi`) read alike: which maps
    /// (`maps` or `seed`, see `readMaps`), the participants table (`participants`, "" for the
    /// cohort's) and `include` (see `readInclude`), each with its default written here once.
    struct Selection {
        var maps: String
        var seed: String
        var participants: String
        var include: [String: [String]]

        static func read(_ params: ParameterReader) -> Selection {
            let (maps, seed) = readMaps(params)
            return Selection(maps: maps, seed: seed, participants: params.string("participants", default: ""), include: readInclude(params))
        }
    }

    /// Reads `maps` (a `MapsTable` path, "" for none) and `seed`: required without `maps`, optional
    /// with it ("" for none). Neither is recorded in the canonical parameters when absent, so the
    /// task keys of stages without `maps` stay as they were.
    static func readMaps(_ params: ParameterReader) -> (maps: String, seed: String) {
        func optional(_ key: String) -> String {
            guard let value = params.value(key) else { return "" }
            guard let text = value.stringValue, !text.isEmpty else {
                params.report(key, value.stringValue == nil ? "expected a string, got \(value.typeName)" : "expected a non-empty string")
                return ""
            }
            return text
        }
        let maps = optional("maps")
        if maps.isEmpty && params.value("seed") == nil {
            params.report("seed", "missing: name the seed of the connectivity stage's maps, or give maps, a table of map files")
            return ("", "")
        }
        return (maps, optional("seed"))
    }

    /// The entity that names a stage's outputs: `seed-<seed>`, or with a maps table and no seed,
    /// `maps-<the table's name>` (see `MapsTable.label(_:)`).
    static func outputEntity(seed: String, maps: String) -> String {
        !maps.isEmpty && seed.isEmpty ? "maps-\(MapsTable.label(maps))" : "seed-\(seed)"
    }

    /// The subjects whose participants.tsv values pass every `include` filter (column → values).
    /// (`ParticipantFilter`'s rule, as the cohort's.) - Throws: `InputError` for a subject the
    /// table does not have, rather than dropping it without a word.
    static func filter(_ subjects: [String], include: [String: [String]], table: ParticipantsTable) throws -> [String] {
        let filter = ParticipantFilter(include: include)
        return try subjects.filter { subject in
            guard let row = table.rows[subject] else {
                throw InputError(path: table.path, field: "participant_id", "sub-\(subject) is not in the table")
            }
            return filter.keeps { row[$0] }
        }
    }

    /// Reads `include`: an object of column → a value or a list of values. Numbers and booleans
    /// are read as the table's text (`1`, `true`), as the cohort's filter reads them.
    static func readInclude(_ params: ParameterReader) -> [String: [String]] {
        guard let include = params.value("include") else { return [:] }
        guard let object = include.objectValue else {
            params.report("include", "expected an object of column: [values]")
            return [:]
        }
        var out: [String: [String]] = [:]
        for (column, allowed) in object {
            var values: [String] = []
            for item in allowed.arrayValue ?? [allowed] {
                if let text = ParticipantFilter.text(of: item) { values.append(text) }
                else { params.report("include.\(column)", "expected values, got \(item.typeName)") }
            }
            out[column] = values
        }
        return out
    }
}
