import Foundation
import NIfTI
import Numerics
import PipelineEngine

/// Region resolution of the `roi` stage: atlas labels, spheres, masks, and group clusters
/// (redefined without each held-out subject when circular).
extension ROIKind {
    func resolve(_ spec: Region, index: Int, p: Parameters, context: TaskContext, table: ParticipantsTable, subjects: [String],
                 shape: [Int], affine: Affine, atlas: (labels: AtlasLabels, onGrid: [Int])?) throws -> ROIRegion {
        let name = spec.name
        let total = shape.reduce(1, *)
        switch spec.source {
        case .label(let label):
            guard let atlas else {
                throw InputError(path: "stage roi", field: "regions[\(index)].label", "no atlas: set atlas and atlas_labels")
            }
            let value = try atlas.labels.value(of: label)
            let voxels = (0..<total).filter { atlas.onGrid[$0] == value }
            guard !voxels.isEmpty else {
                throw InputError(path: atlas.labels.path, field: "regions[\(index)].label", "label '\(label)' has no voxel on the maps' grid (nearest neighbour)")
            }
            return ROIRegion(name: name, source: "atlas label \(label)", voxels: voxels, note: "fixed region")
        case .sphere(let centre, let radius):
            let voxels = SeedGeometry.sphere(centre: centre, radius: radius, shape: shape, affine: affine)
            guard !voxels.isEmpty else {
                throw InputError(path: "stage roi", field: "regions[\(index)].sphere", "no voxel of the maps' grid lies within \(radius) mm of \(centre)")
            }
            return ROIRegion(name: name, source: "sphere \(centre) r \(radius) mm", voxels: voxels, note: "fixed region")
        case .mask:
            guard let url = context.sources["region\(index)_mask"] else {
                throw InputError(path: "stage roi", field: "regions[\(index)].mask", "the mask file is not among the task's sources")
            }
            let image = try NIfTIFile.read(url.path)
            let resampled = SeedGeometry.resampleNearest(image.data, shape: Array(image.shape.prefix(3)), affine: image.affine, to: shape, affine: affine)
            let voxels = (0..<total).filter { resampled[$0] != 0 }
            guard !voxels.isEmpty else { throw InputError(path: url.path, field: "regions[\(index)].mask", "has no voxel on the maps' grid") }
            return ROIRegion(name: name, source: "mask \(url.lastPathComponent)", voxels: voxels, note: "fixed region")
        case .cluster(let k, let wanted):
            return try cluster(k, contrast: wanted, name: name, index: index, leaveOneOut: p.leaveOneOut, maps: p.maps, context: context,
                               table: table, subjects: subjects, shape: shape, affine: affine)
        }
    }

    /// A significant cluster of a group stage, redefined per held-out subject when circular (on
    /// the group's maps, from this stage's connectivity stage or its maps table `maps`).
    func cluster(_ k: Int, contrast wanted: String?, name: String, index: Int, leaveOneOut: Bool, maps mapsTable: String, context: TaskContext,
                 table: ParticipantsTable, subjects: [String], shape: [Int], affine: Affine) throws -> ROIRegion {
        let field = "regions[\(index)].cluster"
        guard let files = Self.groupFiles(context),
              let summaryURL = files.first(where: { $0.key.hasPrefix("group_") && $0.key.hasSuffix("_summary.json") })?.value else {
            throw InputError(path: "stage roi", field: field, "a cluster region needs a group stage in from")
        }
        let summary = try Self.groupSummary(at: summaryURL)
        let groupSeed = summary.seed, groupSession = summary.session, groupSubjects = summary.subjects
        guard let contrast = summary.contrasts.first(where: { wanted == nil || $0.contrast == wanted }) else {
            throw InputError(path: summaryURL.path, field: "regions[\(index)].contrast",
                             "no contrast '\(wanted ?? "")' (contrasts: \(summary.contrasts.map(\.contrast).joined(separator: ", ")))")
        }
        let expression = contrast.contrast
        let significant = contrast.significantClusters
        guard let info = significant.first(where: { $0.id == k }) else {
            // Not an error: editing the cohort can make a finding disappear, and the run should say so.
            context.log("\(name): contrast '\(expression)' has no significant cluster \(k)")
            return ROIRegion(name: name, source: "cluster \(k) of \(expression)", voxels: nil,
                          note: "absent: contrast '\(expression)' has \(significant.count) significant cluster(s), so no cluster \(k)")
        }
        let prefix = summaryURL.lastPathComponent.replacingOccurrences(of: "_summary.json", with: "")
        let dsegName = "\(prefix)_contrast-\(VoxelwiseInference.label(expression))_desc-clusters_dseg.nii.gz"
        guard let dsegURL = files[dsegName] else { throw InputError(path: summaryURL.path, field: field, "the group stage has no \(dsegName)") }
        let dseg = try NIfTIFile.read(dsegURL.path)
        let labels = SeedGeometry.resampleNearest(dseg.data, shape: Array(dseg.shape.prefix(3)), affine: dseg.affine, to: shape, affine: affine)
        let voxels = (0..<labels.count).filter { labels[$0] == Float(k) }
        let groupMaps = summary.maps
        let source = "cluster \(k) of \(expression) (\(groupMaps.map { "maps \($0)" } ?? "seed \(groupSeed)")\(groupSession.isEmpty ? "" : ", \(groupSession)"), \(groupSubjects.count) subjects)"
        let shared = Set(groupSubjects).intersection(subjects)
        guard leaveOneOut, !shared.isEmpty else {
            return ROIRegion(name: name, source: source, voxels: voxels,
                          note: shared.isEmpty ? "fixed region: defined on other subjects"
                              : "circular: the region was defined on \(shared.count) of these subjects and leave_one_out is off")
        }

        // Leave-one-out: refit the group's model without each shared subject.
        let designSpec = summary.design.spec
        guard (groupMaps == nil) == mapsTable.isEmpty else {
            throw InputError(path: summaryURL.path, field: field, groupMaps == nil
                             ? "the group stage read a connectivity stage; read it too (instead of maps) to refit the cluster without each subject"
                             : "the group stage read maps \(groupMaps!); read the same maps table to refit the cluster without each subject")
        }
        let urls = try StageInputs.maps(context, table: mapsTable, seed: groupSeed, session: groupSession)
        let missing = groupSubjects.filter { urls[$0] == nil }
        guard missing.isEmpty else {
            if !mapsTable.isEmpty {
                throw InputError(path: summaryURL.path, field: field,
                                 "this stage reads no map of sub-\(missing[0])\(groupSession.isEmpty ? "" : " at session \(groupSession)"), which the group stage read; read its maps at pre or post")
            }
            throw InputError(path: summaryURL.path, field: field, "the connectivity stage has no \(groupSeed) map for sub-\(missing[0]); read the group stage's connectivity stage")
        }
        // The runs the group stage averaged: those the qc stage kept (this stage reads the same one).
        let selection = try QCExclusions.select(context, subjects: groupSubjects, sessions: [(groupSession.isEmpty ? nil : groupSession, urls)])
        guard selection.subjects == groupSubjects else {
            let gone = groupSubjects.filter { !selection.subjects.contains($0) }
            throw InputError(path: summaryURL.path, field: field, "the qc stage this stage reads excludes sub-\(gone[0]), whom the group stage tested; read the group stage's qc stage")
        }
        let maps = try GroupMaps.load(selection.runs, coverage: summary.maskCoverage, resampling: summary.resample)
        guard maps.shape == shape, maps.affine.isClose(to: affine, tolerance: 1e-4) else {
            throw InputError(path: summaryURL.path, field: field, "the group maps' grid differs from this stage's maps")
        }
        // The cluster's rank by mass among the significant clusters of its sign.
        let sign = info.sign
        let rank = significant.filter { $0.sign == sign && $0.mass > info.mass }.count
        let loo = LeaveOneOutROI(y: maps.sets[0], grid: maps.grid, clusterP: summary.clusterP, twoSided: summary.twoSided,
                                 connectivity: summary.connectivity) { heldOut in
            let rest = groupSubjects.enumerated().filter { $0.offset != heldOut }.map(\.element)
            do {
                let d = try GroupDesign(designSpec, subjects: rest, table: table)
                return (d.matrix, try d.contrast(expression))
            } catch let e as InputError where GroupDesign.isSelectionProblem(e, of: designSpec) {
                throw Unfittable(reason: e.message)
            }
        }
        // On every subject the group stage tested, with this stage's table: a table that lacks a
        // column, a subject or a value the group's design needs is this stage's error, not a
        // fold's (only what holding a subject out changes, the rank and the levels, is).
        do {
            _ = try GroupDesign(designSpec, subjects: groupSubjects, table: table).contrast(expression)
        } catch let e as InputError {
            throw InputError(path: e.path, field: e.field, "\(e.message); the leave-one-out refit builds the group stage's design "
                             + "(\(summaryURL.lastPathComponent)) from this stage's participants table")
        }
        // A design that fits every subject but not all without one (a covariate only that subject
        // varies, a group level of one subject) defines no fold region for that subject: like a
        // fold without the cluster, the subject has no value there, and the note says why.
        var perSubject: [String: [Int]?] = [:], unfittable: [(subject: String, reason: String)] = []
        for (i, s) in groupSubjects.enumerated() where shared.contains(s) {
            try context.checkCancellation()
            do {
                perSubject[s] = try loo.region(heldOut: i, sign: sign, rank: rank).map { $0.map { maps.voxels[$0] } }
            } catch let e as Unfittable {
                perSubject[s] = .some(nil)
                unfittable.append((s, e.reason))
            }
        }
        let refused = Set(unfittable.map(\.subject))
        let lost = perSubject.filter { $0.value == nil && !refused.contains($0.key) }.keys.sorted()
        let designs = unfittable.map { "sub-\($0.subject) (\($0.reason))" }
        return ROIRegion(name: name, source: source, voxels: voxels, perSubject: perSubject,
                      note: "leave-one-out: the region was defined on \(shared.count) of these subjects, so each of them gets the "
                          + "cluster refitted without them" + (lost.isEmpty ? "" : "; no such cluster without sub-\(lost.joined(separator: ", sub-"))")
                          + (designs.isEmpty ? "" : "; the design cannot be fitted without \(designs.joined(separator: ", "))"))
    }
}

/// A leave-one-out fold whose design cannot be fitted without the held-out subject.
private struct Unfittable: Error {
    var reason: String
}

extension ROIKind {
    /// The files of the group stage a cluster region comes from: the first input with a group
    /// summary (nil without one).
    static func groupFiles(_ context: TaskContext) -> [String: URL]? {
        context.inputs.first { $0.files.keys.contains { $0.hasPrefix("group_") && $0.hasSuffix("_summary.json") } }?.files
    }

    /// Reads the summary of the group stage a cluster region comes from: the type the group stage
    /// wrote it with.
    /// - Throws: `InputError` "<path>: cannot be read as a group stage summary: <why>", naming the
    ///   missing or mistyped field.
    static func groupSummary(at url: URL) throws -> GroupSummary {
        try OutputJSON.decode(GroupSummary.self, from: url, as: "a group stage summary")
    }

    /// Plan-time checks of cluster regions: they need a `group` stage in `from`, which tests the
    /// `contrast` they name; refit without each subject (`leave_one_out`), they need the group
    /// stage's maps, so both stages read a connectivity stage, or both the same maps table.
    func checkClusterSource(_ p: Parameters, stage: StageSpec, study: StudyCheck, names: GroupLevelCheck) {
        guard let i = p.regions.firstIndex(where: { if case .cluster = $0.source { return true }; return false }) else { return }
        guard let group = stage.from.lazy.compactMap(study.stage).first(where: { $0.kind is GroupKind }) else {
            study.report(stage, "regions[\(i)].cluster", "a cluster region needs a group stage in from")
            return
        }
        // A cluster of a contrast the group stage does not test would stop this stage after the
        // group stage's permutations.
        let contrasts = (group.kind as! GroupKind).typed(group).contrasts
        for (j, region) in p.regions.enumerated() {
            if case .cluster(_, let wanted?) = region.source, !contrasts.contains(wanted) {
                study.report(stage, "regions[\(j)].contrast", "stage \(group.name) tests no contrast '\(wanted)'"
                             + EditDistance.didYouMean(wanted, among: contrasts) + "; its contrasts: \(contrasts.map { "'\($0)'" }.listed())")
            }
        }
        guard p.leaveOneOut else { return }
        // The refit builds the group stage's design from this stage's participants table, so that
        // table needs the design's columns, with a value for each subject. When it is the group
        // stage's own table, the group stage's check reports its problems, once.
        let groupParameters = (group.kind as! GroupKind).typed(group)
        let design = groupParameters.design
        if study.path(p.participants) != study.path(groupParameters.participants), let table = names.table {
            let covariates = (design.covariates + design.interactedCovariates).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            let needed = [design.group].compactMap { $0 } + covariates
            let missing = needed.filter { !table.columns.contains($0) }
            if !missing.isEmpty {
                study.report(stage, "participants", "\(GroupLevelCheck.name(table)) has no column \(missing.map { "'\($0)'" }.joined(separator: ", ")), which stage "
                             + "\(group.name)'s design uses: its clusters are refit without each subject from this stage's table (read the group "
                             + "stage's table, or set leave_one_out to off)")
            }
            // Every subject the group stage tests is in every fold's design (all but the one held
            // out), whether or not this stage reads it.
            let tested = GroupKind.subjectCheck(groupParameters, stage: group, study: study).usable
            let reason = tested == nil ? "" : "; stage \(group.name)'s design needs a value for every subject it tests: its clusters are refit "
                + "without each subject from this stage's table (fill them in, read the group stage's table, or set leave_one_out to off)"
            if let column = design.group { names.values(of: column, at: "participants", numeric: false, subjects: tested, reason: reason) }
            for column in covariates { names.values(of: column, at: "participants", numeric: true, subjects: tested, reason: reason) }
        }
        let groupMaps = groupParameters.maps
        if !p.maps.isEmpty, !groupMaps.isEmpty, !groupParameters.session.isEmpty, ![p.pre, p.post].contains(groupParameters.session) {
            // This stage's task reads the table's maps at pre and post only: the refit needs the
            // group stage's session among them.
            study.report(stage, "pre", "stage \(group.name) tests the maps at session \(groupParameters.session), and this stage reads \(p.pre)"
                         + (p.post.isEmpty ? "" : " and \(p.post)") + ": its clusters are refit without each subject on the maps it tested, so read "
                         + "\(groupParameters.session) as pre or post (or set leave_one_out to off)")
        }
        if groupMaps.isEmpty != p.maps.isEmpty || (!p.maps.isEmpty && study.path(groupMaps) != study.path(p.maps)) {
            study.report(stage, p.maps.isEmpty ? "regions[\(i)].cluster" : "maps",
                         groupMaps.isEmpty ? "stage \(group.name) reads a connectivity stage: read it too, so that its clusters can be refit without each subject (or set leave_one_out to off)"
                             : "stage \(group.name) reads maps \(groupMaps): read the same table, so that its clusters can be refit without each subject (or set leave_one_out to off)")
        } else if groupMaps.isEmpty, let theirs = group.from.first, let ours = stage.from.first, theirs != ours,
                  study.stage(theirs)?.kind is ConnectivityKind, study.stage(ours)?.kind is ConnectivityKind {
            // The refit reads the group's seed from this stage's connectivity stage: another one
            // would refit the cluster on other maps than the group stage tested (or lack the seed).
            study.report(stage, "from", "stage \(group.name) reads its maps from connectivity stage \(theirs), and this stage from \(ours): "
                         + "read \(theirs) first, so that its clusters are refit without each subject on the maps it tested (or set leave_one_out to off)")
        }
        // The refit tests the scans the group stage tested: the same qc stage's exclusions (of
        // subjects, and of runs within a subject's mean).
        func qc(_ s: StageSpec) -> [String] { s.from.filter { study.stage($0)?.kind is QCKind } }
        let theirs = qc(group), ours = qc(stage)
        if theirs != ours {
            study.report(stage, "from", "stage \(group.name) reads \(theirs.isEmpty ? "no qc stage" : "qc stage " + theirs.joined(separator: ", ")) "
                         + "and this stage \(ours.isEmpty ? "none" : ours.joined(separator: ", ")): read the same, so that its clusters are refit "
                         + "without each subject on the scans it tested (or set leave_one_out to off)")
        }
    }
}
