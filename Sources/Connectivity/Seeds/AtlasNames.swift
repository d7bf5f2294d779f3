import NIfTI
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
            // Read, and a problem reported, once per stage however many of its checks ask.
            return study.memo("atlas table: \(stage.name)\u{0}\(path)") { () -> [Int: String]? in
                do { return try AtlasLabels.readTable(path) } catch let e as InputError {
                    study.report(stage, key, InputError(path: e.path == path ? table : e.path, field: e.field, e.message).description)
                    return nil
                } catch { return nil }
            }
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

    /// The stage's `atlas` image and `atlas_labels` table as its task reads them
    /// (`AtlasLabels.read`), for a stage whose task reads them, labels named or not: a 3-D (or
    /// one-volume) image of whole numbers, and a table of indices and names (read with an image
    /// only, as the task reads it). A probabilistic (4-D) atlas, or one resampled with
    /// interpolation, would stop every task that reads it, after the work before them. The image
    /// is read once per check (at most 2^28 voxels: a larger one is left to the task); a missing
    /// file is reported by the checks of the stage's sources.
    static func checkFiles(atlas: String, table: String, stage: StageSpec, study: StudyCheck) {
        if !atlas.isEmpty, case .regular = FileSystem.kind(of: study.path(atlas)) {
            let path = study.path(atlas)
            let problem: String? = study.memo("atlas image: \(path)") {
                do {
                    // A large atlas is read when its task runs; its length is checked now.
                    guard RegionGridCheck.isSmall(try NIfTIFile.readHeader(path).header) else { try NIfTIFile.checkWhole(path); return nil }
                    _ = try AtlasLabels.read(image: path, table: nil)
                } catch let e as InputError {
                    return InputError(path: atlas, field: e.field, e.message).description
                } catch {
                    return InputError(path: atlas, "cannot be read as a NIfTI label image: \(NIfTIReadProblem(error).reason)").description
                }
                return nil
            }
            if let problem { study.report(stage, "atlas", problem) }
        }
        // The table is read with an image: the stage's, or a synth_cohort stage's.
        if !table.isEmpty && (!atlas.isEmpty || GroupLevelCheck.synthCohort(of: stage, in: study) != nil) {
            _ = names(table: table, atlas: atlas, stage: stage, study: study, key: "atlas_labels")
        }
    }
}
