import PipelineEngine

/// The label names a stage's atlas will have, for plan-time checks: from its label table, or
/// the synthetic atlas when the atlas comes from a `synth_cohort` stage.
enum AtlasNames {
    /// Index → name, or nil when it cannot be known now (no table; an unreadable one is reported
    /// at `key`).
    static func names(table: String, atlas: String, stage: StageSpec, study: StudyCheck, key: String) -> [Int: String]? {
        if !table.isEmpty {
            let path = study.path(table)
            guard case .regular = FileSystem.kind(of: path) else { return nil }
            do { return try AtlasLabels.readTable(path) } catch let e as InputError {
                study.report(stage, key, e.description)
                return nil
            } catch { return nil }
        }
        if atlas.isEmpty, GroupLevelCheck.synthCohort(of: stage, in: study) != nil {
            return Dictionary(uniqueKeysWithValues: SynthAtlas.regions.map { ($0.index, $0.name) })
        }
        if !atlas.isEmpty { study.checkLater(stage, "atlas labels by number against \(atlas) (no atlas_labels table)") }
        return nil
    }

    /// A label (a name, or a number written as text) must be in the table.
    static func check(_ label: String, at key: String, names: [Int: String], stage: StageSpec, study: StudyCheck) {
        if names.values.contains(label) { return }
        if let n = Int(label), names[n] != nil { return }
        let all = names.keys.sorted().compactMap { names[$0] }
        study.report(stage, key, "the atlas has no label '\(label)'" + EditDistance.didYouMean(label, among: all)
                     + "; labels: \(GroupLevelCheck.list(all))")
    }
}
