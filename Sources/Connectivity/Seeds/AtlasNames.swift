import NIfTI
import PipelineEngine

/// The label names a stage's atlas will have, for plan-time checks: from its label table, or
/// the synthetic atlas when the atlas comes from a `synth_cohort` stage.
enum AtlasNames {
    /// Index → name, or nil when it cannot be known now (an unreadable table is reported at
    /// `key`; an atlas too large to read now). Without a table, the labels are the numbers the
    /// atlas image holds (0, the background, is none), each named by itself, as the task reads
    /// them (`AtlasLabels.value(of:)`).
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
        guard !atlas.isEmpty, case .labels(let present)? = image(atlas, study: study) else {
            if !atlas.isEmpty { study.checkLater(stage, "atlas labels by number against \(atlas) (no atlas_labels table)") }
            return nil
        }
        return Dictionary(uniqueKeysWithValues: present.map { ($0, String($0)) })
    }

    /// What the check reads of an atlas image, once per check.
    enum Image {
        /// The labels it holds (0, the background, aside).
        case labels(Set<Int>)
        /// Why its task could not read it (the message names the file as the spec does).
        case problem(String)
        /// More than 2^28 voxels: read when its task runs (its length is checked now).
        case large
    }

    /// The atlas image read as its task reads it (`AtlasLabels.read`); nil when there is no such
    /// file (reported by the checks of the stage's sources).
    static func image(_ atlas: String, study: StudyCheck) -> Image? {
        let path = study.path(atlas)
        guard case .regular = FileSystem.kind(of: path) else { return nil }
        return study.memo("atlas image: \(path)") { () -> Image in
            do {
                guard RegionGridCheck.isSmall(try NIfTIFile.readHeader(path).header) else { try NIfTIFile.checkWhole(path); return .large }
                return .labels(Set(try AtlasLabels.read(image: path, table: nil).distinctLabels).subtracting([0]))
            } catch let e as InputError {
                return .problem(InputError(path: atlas, field: e.field, e.message).description)
            } catch {
                return .problem(InputError(path: atlas, "cannot be read as a NIfTI label image: \(NIfTIReadProblem(error).reason)").description)
            }
        }
    }

    /// A label (a name, or a number written as text) must be in the table, and a name must be one
    /// label's: a name the table gives to two labels is refused when the task reads it.
    static func check(_ label: String, at key: String, names: [Int: String], stage: StageSpec, study: StudyCheck) {
        let named = AtlasLabels.labels(named: label, in: names)
        if named.count > 1 {
            study.report(stage, key, "the atlas table names labels \(named.map(String.init).joined(separator: " and ")) '\(label)': give the number of the one meant")
            return
        }
        if !named.isEmpty { return }
        if let n = Int(label), names[n] != nil { return }
        let all = names.keys.sorted().compactMap { names[$0] }
        if names.allSatisfy({ String($0.key) == $0.value }) {
            // No table: only numbers name the labels.
            study.report(stage, key, "the atlas has no label '\(label)': " + (all.isEmpty ? "its image holds no label (every voxel is 0)"
                         : "without an atlas_labels table its labels are the numbers in the image (\(all.listed())); give atlas_labels to use names"))
            return
        }
        study.report(stage, key, "the atlas has no label '\(label)'" + EditDistance.didYouMean(label, among: all)
                     + "; labels: \(all.listed())")
    }

    /// The stage's `atlas` image and `atlas_labels` table as its task reads them
    /// (`AtlasLabels.read`), for a stage whose task reads them, labels named or not: a 3-D (or
    /// one-volume) image of whole numbers, and a table of indices and names (read with an image
    /// only, as the task reads it). A probabilistic (4-D) atlas, or one resampled with
    /// interpolation, would stop every task that reads it, after the work before them. The image
    /// is read once per check (at most 2^28 voxels: a larger one is left to the task); a missing
    /// file is reported by the checks of the stage's sources.
    static func checkFiles(atlas: String, table: String, stage: StageSpec, study: StudyCheck) {
        if !atlas.isEmpty, case .problem(let problem)? = image(atlas, study: study) { study.report(stage, "atlas", problem) }
        // The table is read with an image: the stage's, or a synth_cohort stage's.
        if !table.isEmpty && (!atlas.isEmpty || GroupLevelCheck.synthCohort(of: stage, in: study) != nil) {
            _ = names(table: table, atlas: atlas, stage: stage, study: study, key: "atlas_labels")
        }
    }
}
