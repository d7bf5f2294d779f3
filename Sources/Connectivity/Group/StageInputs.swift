import Foundation
import PipelineEngine

/// What the group-level stage kinds (`group`, `longitudinal`, `roi`) read from their inputs.
enum StageInputs {
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

    /// Each subject's Fisher z map of `seed` at `session` ("" for any) from the connectivity stage
    /// at `fromIndex`. - Throws: `InputError` when a scan has no map for the seed.
    static func zMaps(_ context: TaskContext, fromIndex: Int = 0, seed: String, session: String) throws -> [String: URL] {
        var maps: [String: URL] = [:]
        for input in context.inputs where input.fromIndex == fromIndex {
            guard let subject = input.scope.subject else { continue }
            if !session.isEmpty && input.scope.session != session { continue }
            guard let map = input.files.first(where: { $0.key.hasSuffix("_seed-\(seed)_stat-z_connectivity.nii.gz") }) else {
                throw InputError(path: input.scope.label, field: "seed", "no z map for seed '\(seed)' (is it one of the connectivity stage's seeds?)")
            }
            maps[subject] = map.value
        }
        return maps
    }

    /// The subjects whose participants.tsv values pass every `include` filter (column → values).
    static func filter(_ subjects: [String], include: JSONValue?, table: ParticipantsTable) throws -> [String] {
        guard let include = include?.objectValue else { return subjects }
        return try subjects.filter { subject in
            try include.allSatisfy { column, allowed in
                let values = allowed.arrayValue?.compactMap(\.stringValue) ?? [allowed.stringValue ?? ""]
                return values.contains(try table.value(subject, column) ?? "")
            }
        }
    }

    /// Declares `include` (an object of column → values).
    static func declareInclude(_ params: ParameterReader) {
        if let include = params.value("include"), include.objectValue == nil {
            params.report("include", "expected an object of column: [values]")
        }
    }
}
