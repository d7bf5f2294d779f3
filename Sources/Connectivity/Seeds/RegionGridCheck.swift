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
    enum Source {
        case sphere(centre: [Double], radius: Double), label(String)
        /// A mask file and the voxels it selects, as the stage that draws it reads them: a seed
        /// mask its positive voxels, an roi mask its non-zero ones (`positive` true / false).
        case mask(String, positive: Bool)
    }

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
        let image: AtlasLabels? = labelled ? readable(atlas).flatMap { path in
            study.memo("region atlas: \(path)") { Self.isVolume(path) ? try? AtlasLabels.read(image: path, table: readable(atlasLabels)) : nil }
        } : nil
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
            case .mask(let path, let positive):
                guard let file = readable(path),
                      let mask = study.memo("region mask: \(file)", { Self.isVolume(file) ? try? NIfTIFile.read(file, as: Float.self) : nil }) else { continue }
                what = "mask \(path) has no \(positive ? "positive" : "non-zero") voxel on the data grid once resampled to it (nearest neighbour)"
                empty = grids.indices.filter { g in
                    !SeedGeometry.resampleNearest(mask.data, shape: Array(mask.shape.prefix(3)), affine: mask.affine,
                                                  to: grids[g].grid.shape, affine: grids[g].grid.affine).contains { positive ? $0 > 0 : $0 != 0 }
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

    /// Whether the image's header says a volume this check reads: at most 3-D (or 4-D with one
    /// volume) and at most 2^28 voxels (a 1 mm template has 7 million). Anything else is left
    /// to the stage, which reports it when it reads the file.
    static func isVolume(_ path: String) -> Bool {
        guard let header = try? NIfTIFile.readHeader(path).header else { return false }
        let shape = header.shape
        guard shape.count <= 3 || shape.dropFirst(3).allSatisfy({ $0 == 1 }) else { return false }
        return shape.prefix(3).reduce(1.0) { $0 * Double(max($1, 1)) } <= Double(1 << 28)
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
