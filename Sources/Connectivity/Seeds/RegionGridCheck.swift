import Foundation
import NIfTI
import PipelineEngine

/// Plan-time check that each region (a connectivity seed, an roi region) has a voxel on the data
/// grids it will be drawn on: a sphere whose coordinates are wrong, or an atlas label or a mask
/// lost when resampled (nearest neighbour) to a coarser grid, would stop the task that draws it.
/// The grids come from the `clean` stage's survey of the runs' headers; the atlas image and mask
/// files are read once. Each region is reported once, at its key, with the first grid it misses
/// (a run on it and its extent) and the other runs on such grids. An unreadable atlas or mask is
/// left to the checks of the stage's sources.
struct RegionGridCheck {
    enum Source { case sphere(centre: [Double], radius: Double), label(String), mask(String) }

    /// The data grids, each with the runs on it (labels, and the BOLD file of the first).
    var grids: [(grid: CleanKind.RunSurvey.Grid, runs: [CleanKind.RunSurvey.Run])]

    init(runs: [CleanKind.RunSurvey.Run]) {
        grids = []
        for run in runs {
            if let g = grids.firstIndex(where: { $0.grid.matches(run.grid) }) { grids[g].runs.append(run) } else { grids.append((run.grid, [run])) }
        }
    }

    /// Reports each region of `regions` (`key`: its spec key, e.g. `seeds[2].label`) that has no
    /// voxel on a grid; `atlas` and `atlasLabels` are the stage's (spec-relative; "" for none).
    func check(_ regions: [(key: String, source: Source)], atlas: String, atlasLabels: String, stage: StageSpec, study: StudyCheck) {
        guard !grids.isEmpty, !regions.isEmpty else { return }
        func readable(_ path: String) -> String? {
            guard !path.isEmpty, case .regular = FileSystem.kind(of: study.path(path)) else { return nil }
            return study.path(path)
        }
        let labelled = regions.contains { if case .label = $0.source { return true }; return false }
        let image = labelled ? readable(atlas).flatMap { try? AtlasLabels.read(image: $0, table: readable(atlasLabels)) } : nil
        var labelsOn: [Int: Set<Int>] = [:]
        func labels(on g: Int) -> Set<Int> {
            if let known = labelsOn[g] { return known }
            let found = Set(image!.resampled(to: grids[g].grid.shape, affine: grids[g].grid.affine))
            labelsOn[g] = found
            return found
        }
        for (key, source) in regions {
            let what: String
            let empty: [Int]
            switch source {
            case .sphere(let centre, let radius):
                guard centre.count == 3 else { continue }
                what = "no voxel of the data grid lies within \(JSONValue.format(number: radius)) mm of "
                    + "(\(centre.map { JSONValue.format(number: $0) }.joined(separator: ", ")))"
                empty = grids.indices.filter { g in
                    SeedGeometry.sphere(centre: centre, radius: radius, shape: grids[g].grid.shape, affine: grids[g].grid.affine).isEmpty
                }
            case .label(let label):
                guard let image, let value = try? image.value(of: label) else { continue }
                what = "atlas label '\(label)' (value \(value) in \(atlas)) has no voxel on the data grid once resampled to it (nearest neighbour)"
                empty = grids.indices.filter { !labels(on: $0).contains(value) }
            case .mask(let path):
                guard let file = readable(path), let mask = try? NIfTIFile.read(file, as: Float.self) else { continue }
                what = "mask \(path) has no non-zero voxel on the data grid once resampled to it (nearest neighbour)"
                empty = grids.indices.filter { g in
                    !SeedGeometry.resampleNearest(mask.data, shape: Array(mask.shape.prefix(3)), affine: mask.affine,
                                                  to: grids[g].grid.shape, affine: grids[g].grid.affine).contains { $0 > 0 }
                }
            }
            guard let g = empty.first, let run = grids[g].runs.first else { continue }
            let others = empty.flatMap { grids[$0].runs }.dropFirst().map(\.label)
            study.report(stage, key, what + ": \(run.label)'s run \(run.files["bold"] ?? run.label) spans " + Self.extent(grids[g].grid)
                         + " mm (\(grids[g].grid.description))"
                         + (others.isEmpty ? "" : "; also for \(others.count) other run\(others.count == 1 ? "" : "s"): \(GroupLevelCheck.list(others))")
                         + (empty.count < grids.count ? " (\(grids.count - empty.count) of the runs' \(grids.count) grids \(grids.count - empty.count == 1 ? "has" : "have") one: "
                            + "those runs are on other grids)" : "")
                         + (key.hasSuffix("sphere") && empty.count == grids.count ? "; check the coordinates (world mm, in the run's space)" : ""))
        }
    }

    /// The grid's extent in world mm: its corner voxels' centres through the affine.
    static func extent(_ grid: CleanKind.RunSurvey.Grid) -> String {
        var low = [Double](repeating: .infinity, count: 3), high = [Double](repeating: -.infinity, count: 3)
        for corner in 0..<8 {
            let ijk = (0..<3).map { Double(corner >> $0 & 1 == 1 ? grid.shape[$0] - 1 : 0) }
            let xyz = grid.affine.apply(ijk)
            for a in 0..<3 { low[a] = min(low[a], xyz[a]); high[a] = max(high[a], xyz[a]) }
        }
        return zip(["x", "y", "z"], zip(low, high)).map { "\($0) \(JSONValue.format(number: $1.0)) to \(JSONValue.format(number: $1.1))" }
            .joined(separator: ", ")
    }
}
