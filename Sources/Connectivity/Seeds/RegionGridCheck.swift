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

    /// The runs cleaning can read (a 4-D series of more than one volume: the others are
    /// reported by the survey, and a seed is not drawn on a grid of fewer than 3 dimensions).
    init(runs: [CleanKind.RunSurvey.Run]) {
        grids = []
        for run in runs where run.header.shape.count >= 4 && run.header.shape[3] > 1 {
            if let g = grids.firstIndex(where: { $0.grid.matches(run.grid) }) { grids[g].runs.append(run) } else { grids.append((run.grid, [run])) }
        }
    }

    /// A region as this check draws it on each grid.
    struct Drawn {
        /// What the region is, as the messages name it (`atlas label 'X' (value 6 in a.nii.gz)`).
        var what: String
        /// Its voxels on each grid (indices into the grid, ascending), as the stage draws it.
        var voxels: [[Int]]
        /// Why its mask file cannot be read, as the stage would fail to read it (no voxels then).
        var problem: String? = nil
    }

    /// Each region of `regions` drawn on every grid, as the stage that draws it does (a sphere by
    /// nilearn's rule, an atlas label or a mask resampled by nearest neighbour); nil for a region
    /// this check cannot draw (an unreadable atlas or mask, a label the atlas does not have: the
    /// stage's other checks report those). `atlas` and `atlasLabels` are the stage's
    /// (spec-relative; "" for none).
    /// With `keepVoxels` false, at most one voxel per grid is kept: enough to tell whether a
    /// region is empty there, in little memory over many grids.
    func draw(_ regions: [(key: String, source: Source)], atlas: String, atlasLabels: String, study: StudyCheck,
              keepVoxels: Bool = true) -> [Drawn?] {
        guard !grids.isEmpty else { return regions.map { _ in nil } }
        func readable(_ path: String) -> String? {
            guard !path.isEmpty, case .regular = FileSystem.kind(of: study.path(path)) else { return nil }
            return study.path(path)
        }
        let labelled = regions.contains { if case .label = $0.source { return true }; return false }
        let image: AtlasLabels? = labelled ? readable(atlas).flatMap { path in
            study.memo("region atlas: \(path)") { Self.isVolume(path) ? try? AtlasLabels.read(image: path, table: readable(atlasLabels)) : nil }
        } : nil
        // What each region is and how to draw it; then grid by grid, so that one grid's
        // resampled atlas is held at a time, however many grids.
        enum Plan { case sphere([Double], Double), label(Int), mask(NIfTIImage<Float>, positive: Bool) }
        var drawn: [Drawn?] = []
        var plans: [Plan?] = []
        for (_, source) in regions {
            switch source {
            case .sphere(let centre, let radius):
                guard centre.count == 3 else { drawn.append(nil); plans.append(nil); continue }
                drawn.append(Drawn(what: "sphere of \(JSONValue.format(number: radius)) mm at \(Self.point(centre))", voxels: []))
                plans.append(.sphere(centre, radius))
            case .label(let label):
                guard let image, let value = try? image.value(of: label) else { drawn.append(nil); plans.append(nil); continue }
                drawn.append(Drawn(what: "atlas label '\(label)' (value \(value) in \(atlas))", voxels: []))
                plans.append(.label(value))
            case .mask(let path, let positive):
                guard let file = readable(path), let read = study.memo("region mask: \(file)", { Self.readMask(file) }) else {
                    drawn.append(nil); plans.append(nil); continue
                }
                switch read {
                case .success(let mask):
                    drawn.append(Drawn(what: "mask \(path)", voxels: []))
                    plans.append(.mask(mask, positive: positive))
                case .failure(let problem):
                    drawn.append(Drawn(what: "mask \(path)", voxels: [], problem: problem.reason))
                    plans.append(nil)
                }
            }
        }
        for g in grids.indices {
            let shape = grids[g].grid.shape, affine = grids[g].grid.affine
            var labels: [Int]?
            for r in regions.indices {
                guard let plan = plans[r] else { continue }
                let voxels: [Int]
                switch plan {
                case .sphere(let centre, let radius):
                    voxels = SeedGeometry.sphere(centre: centre, radius: radius, shape: shape, affine: affine)
                case .label(let value):
                    if labels == nil { labels = image!.resampled(to: shape, affine: affine) }
                    voxels = labels!.indices.filter { labels![$0] == value }
                case .mask(let mask, let positive):
                    let values = SeedGeometry.resampleNearest(mask.data, shape: Array(mask.shape.prefix(3)), affine: mask.affine, to: shape, affine: affine)
                    voxels = values.indices.filter { positive ? values[$0] > 0 : values[$0] != 0 }
                }
                drawn[r]!.voxels.append(keepVoxels ? voxels : Array(voxels.prefix(1)))
            }
        }
        return drawn
    }

    /// Reports each region of `regions` (`key`: its spec key, e.g. `seeds[2].label`) that has no
    /// voxel on a grid; `atlas` and `atlasLabels` are the stage's (spec-relative; "" for none).
    /// Returns the regions as drawn (`draw`).
    @discardableResult
    func check(_ regions: [(key: String, source: Source)], atlas: String, atlasLabels: String, stage: StageSpec, study: StudyCheck) -> [Drawn?] {
        guard !grids.isEmpty, !regions.isEmpty else { return regions.map { _ in nil } }
        let drawn = draw(regions, atlas: atlas, atlasLabels: atlasLabels, study: study)
        report(regions, drawn: drawn, stage: stage, study: study)
        return drawn
    }

    /// Reports each of `regions`, as `draw` drew it (`drawn`), that has no voxel on a grid, or
    /// whose mask cannot be read.
    func report(_ regions: [(key: String, source: Source)], drawn: [Drawn?], stage: StageSpec, study: StudyCheck) {
        for ((key, source), region) in zip(regions, drawn) {
            guard let region else { continue }
            if let problem = region.problem {
                study.report(stage, key, "\(region.what) cannot be read: \(problem)")
                continue
            }
            let what: String
            switch source {
            case .sphere(let centre, let radius):
                what = "no voxel of the data grid lies within \(JSONValue.format(number: radius)) mm of \(Self.point(centre))"
            case .label:
                what = region.what + " has no voxel on the data grid once resampled to it (nearest neighbour)"
            case .mask(_, let positive):
                what = region.what + " has no \(positive ? "positive" : "non-zero") voxel on the data grid once resampled to it (nearest neighbour)"
            }
            let empty = grids.indices.filter { region.voxels[$0].isEmpty }
            guard let g = empty.first, let run = grids[g].runs.first else { continue }
            let others = empty.flatMap { grids[$0].runs }.dropFirst().map(\.label)
            study.report(stage, key, what + ": \(run.label)'s run \(run.files["bold"] ?? run.label) spans " + Self.extent(grids[g].grid)
                         + " mm (\(grids[g].grid.description))"
                         + (others.isEmpty ? "" : "; also for \(others.count) other run\(others.count == 1 ? "" : "s"): \(others.listed())")
                         + (empty.count < grids.count ? " (\(grids.count - empty.count) of the runs' \(grids.count) grids \(grids.count - empty.count == 1 ? "has" : "have") one: "
                            + "those runs are on other grids)" : "")
                         + (key.hasSuffix("sphere") && empty.count == grids.count ? "; check the coordinates (world mm, in the run's space)" : ""))
        }
    }

    /// Reports each seed (`regions`, drawn by `check`) that has voxels on a run's grid but none
    /// inside the run's mask (`mask`: its spec-relative path, nil for none; `noun`: "brain mask" or
    /// "mask"), whose values must exceed `threshold`. Cleaning keeps only the mask's voxels, so
    /// that run's connectivity task would stop (`SeedDefinition.voxelPositions`), after the run was
    /// cleaned. The masks are read once each (a study-wide mask file once), in parallel; one with
    /// no voxel on its run's grid would stop the run's cleaning, and is reported at the `mask` of
    /// `maskStage` (the clean stage), once, with its runs (one that cannot be read is reported by
    /// the clean stage's survey). Each seed is reported once, with the runs it misses.
    func checkInsideMasks(_ regions: [(key: String, source: Source)], drawn: [Drawn?], mask: (CleanKind.RunSurvey.Run) -> String?,
                          noun: String, threshold: Double, stage: StageSpec, maskStage: StageSpec, study: StudyCheck) {
        let wanted = drawn.indices.filter { drawn[$0] != nil && drawn[$0]!.problem == nil }
        guard !wanted.isEmpty else { return }
        // One read per mask file and grid: (grid, path) -> the runs that use it.
        var uses: [(g: Int, path: String, runs: [CleanKind.RunSurvey.Run])] = []
        var index: [String: Int] = [:]
        for g in grids.indices {
            for run in grids[g].runs {
                guard let path = mask(run) else { continue }
                let id = "\(g)\u{0}\(path)"
                if let i = index[id] { uses[i].runs.append(run) } else { index[id] = uses.count; uses.append((g, path, [run])) }
            }
        }
        let limit = Float(threshold)
        // For each use, the regions (positions in `wanted`) with voxels on the grid and none
        // inside, or why the mask itself stops cleaning. A mask that cannot be read is reported by
        // the clean stage's survey of its runs.
        let read: [(missing: [Int], emptyOnGrid: String?)] = parallelMap(uses.count, block: 4) { u in
            let (g, path, _) = uses[u]
            let file = study.path(path)
            guard case .regular = FileSystem.kind(of: file), case .success(let image)? = Self.readMask(file) else { return ([], nil) }
            let values = SeedGeometry.resampleNearest(image.data, shape: Array(image.shape.prefix(3)), affine: image.affine,
                                                      to: grids[g].grid.shape, affine: grids[g].grid.affine)
            // A mask with no voxel on the run's grid stops cleaning (`ScanLoader`), not the seeds.
            guard values.contains(where: { $0 > limit }) else {
                return ([], "has no voxel " + (threshold > 0 ? "above mask_threshold \(JSONValue.format(number: threshold)) " : "")
                            + "on the run's BOLD grid (\(grids[g].grid.description)): a mask of another space"
                            + (threshold > 0 ? ", or a threshold above its values" : ""))
            }
            return (wanted.indices.filter { w in
                let voxels = drawn[wanted[w]]!.voxels[g]
                return !voxels.isEmpty && !voxels.contains { values[$0] > limit }
            }, nil)
        }
        let missing = read.map(\.missing)
        // Reported at the clean stage's mask, once per clean stage, however many connectivity
        // stages read it.
        let empty = uses.indices.filter { read[$0].emptyOnGrid != nil }
        if let first = empty.first {
            _ = study.memo("masks empty on their grid: \(maskStage.name)") { () -> Bool in
                let runs = empty.flatMap { uses[$0].runs }.map(\.label)
                study.report(maskStage, "mask", (runs.count == 1 ? "the \(noun) of 1 run is" : "the \(noun)s of \(runs.count) runs are") + " unusable, so cleaning would stop for "
                             + "\(runs.count == 1 ? "it" : "them"): \(runs[0])'s \(uses[first].path) \(read[first].emptyOnGrid!)"
                             + (runs.count > 1 ? "; also \(Array(runs.dropFirst()).listed())" : ""))
                return true
            }
        }
        for (w, r) in wanted.enumerated() {
            let hits = uses.indices.filter { missing[$0].contains(w) }
            guard let first = hits.first else { continue }
            let runs = hits.flatMap { uses[$0].runs }.map(\.label)
            let total = grids.reduce(0) { $0 + $1.runs.count }
            let key = regions[r].key
            study.report(stage, key, "the \(drawn[r]!.what) has no voxel inside "
                         + (runs.count == total ? "any run's \(noun) (\(total) run\(total == 1 ? "" : "s"); the first: \(runs[0])'s \(uses[first].path))"
                            : "the \(noun) of \(runs.count) of the \(total) runs: \(runs[0])'s \(uses[first].path)"
                              + (runs.count > 1 ? "; also \(Array(runs.dropFirst()).listed())" : ""))
                         + (threshold > 0 ? " (values above mask_threshold \(JSONValue.format(number: threshold)))" : "")
                         + ": cleaning keeps only the mask's voxels, so "
                         + (runs.count == total ? "every" : runs.count == 1 ? "that run's" : "those runs'") + " connectivity task would stop"
                         + (key.hasSuffix("sphere") ? "; check the coordinates (world mm, in the run's space)" : ""))
        }
    }

    /// Whether the image's header says a volume this check reads: at most 3-D (or 4-D with one
    /// volume) and at most 2^28 voxels (a 1 mm template has 7 million). Anything else is left
    /// to the stage, which reports it when it reads the file.
    static func isVolume(_ path: String) -> Bool {
        guard let header = try? NIfTIFile.readHeader(path).header else { return false }
        return isVolume(header)
    }

    static func isVolume(_ header: NIfTIHeader) -> Bool {
        (header.shape.count <= 3 || header.shape.dropFirst(3).allSatisfy({ $0 == 1 })) && isSmall(header)
    }

    /// Whether the image's volume has at most 2^28 voxels (a 1 mm template has 7 million).
    static func isSmall(_ header: NIfTIHeader) -> Bool {
        header.shape.prefix(3).reduce(1.0) { $0 * Double(max($1, 1)) } <= Double(1 << 28)
    }

    /// A mask image as a stage reads it (`NIfTIFile.read`): nil when this check does not read it
    /// (not a volume it reads: `isVolume`), else the image or why it cannot be read (which would
    /// stop the stage too).
    static func readMask(_ path: String) -> Result<NIfTIImage<Float>, NIfTIReadProblem>? {
        do {
            guard isVolume(try NIfTIFile.readHeader(path).header) else { return nil }
            return .success(try NIfTIFile.read(path, as: Float.self))
        } catch {
            return .failure(NIfTIReadProblem(error))
        }
    }

    /// A point in world mm, as the spec writes it: `(-22, -4, -18)`.
    static func point(_ xyz: [Double]) -> String { "(" + xyz.map { JSONValue.format(number: $0) }.joined(separator: ", ") + ")" }

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

/// Why an image cannot be read, as a value (`Result` needs an `Error`), without its path (the
/// messages name the file as the spec writes it).
struct NIfTIReadProblem: Error {
    var reason: String
    init(_ error: Error) {
        if let e = error as? NIfTIError { reason = (e.field.map { "\($0): " } ?? "") + e.message } else { reason = ErrorReason.of(error) }
    }
}
