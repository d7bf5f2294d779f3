import Figures
import Foundation
import NIfTI
import Numerics
import PipelineEngine

/// The grey image the report draws statistical maps over: the cohort's mean EPI (each included
/// run's mean before cleaning, averaged) or a template the spec names. NaN where it has no data
/// (drawn white).
struct ReportBackground {
    var shape: [Int]
    var affine: Affine
    var data: [Float]
    /// The grey scale: the 2nd and 98th percentiles of the values.
    var range: (Double, Double)
    /// What it is, for the page.
    var description: String

    init(shape: [Int], affine: Affine, data: [Float], description: String) {
        self.shape = shape
        self.affine = affine
        self.data = data
        self.description = description
        let values = data.filter(\.isFinite).sorted()
        range = values.isEmpty ? (0, 1) : (Double(values[values.count * 2 / 100]), Double(values[min(values.count - 1, values.count * 98 / 100)]))
    }

    /// A template image (its first volume); values of 0 are outside it.
    static func template(_ url: URL) throws -> ReportBackground {
        let image: NIfTIImage<Float>
        do { image = try NIfTIFile.read(url.path, as: Float.self) } catch {
            throw InputError(path: url.path, field: "background", "cannot be read as a NIfTI image: \(ErrorReason.of(error))")
        }
        let shape = (1...3).map { max(1, Int(image.header.dim[$0])) }
        let count = shape.reduce(1, *)
        guard image.data.count >= count else {
            throw InputError(path: url.path, field: "background", "holds \(image.data.count) values, fewer than its \(shape) grid")
        }
        return ReportBackground(shape: shape, affine: image.header.affine, data: image.data[0..<count].map { $0 == 0 || !$0.isFinite ? .nan : $0 },
                                description: "the template \(url.lastPathComponent)")
    }

    /// The mean of the runs' mean EPIs (`CleanedScan.meanImageFile`), each voxel over the runs
    /// that cover it; nil without any. Runs on another grid than the first are resampled to it.
    static func cohortMean(_ urls: [URL]) throws -> ReportBackground? {
        guard let first = urls.first else { return nil }
        var sum: [Double] = [], count: [Int32] = []
        var shape: [Int] = [], affine = Affine(rows: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]])
        try StageInputs.forEachImage(urls) { url, image in
            let dims = (1...3).map { max(1, Int(image.header.dim[$0])) }
            if url == first {
                shape = dims
                affine = image.header.affine
                sum = [Double](repeating: 0, count: dims.reduce(1, *))
                count = [Int32](repeating: 0, count: sum.count)
            }
            let values = Self.resample(image.data, shape: dims, affine: image.header.affine, to: shape, affine: affine)
            for i in values.indices where values[i] != 0 && values[i].isFinite {
                sum[i] += Double(values[i])
                count[i] += 1
            }
        }
        let data = sum.indices.map { count[$0] > 0 ? Float(sum[$0] / Double(count[$0])) : .nan }
        return ReportBackground(shape: shape, affine: affine, data: data,
                                description: "the mean EPI of the \(urls.count) included runs (each run's mean before cleaning)")
    }

    /// The image on another grid, by nearest neighbour in world coordinates (itself when the
    /// grids are the same).
    func resampled(to dims: [Int], affine target: Affine) -> [Float] {
        Self.resample(data, shape: shape, affine: affine, to: dims, affine: target)
    }

    /// `data` on the grid (`shape`, `affine`) resampled to another, as `resampled(to:affine:)`.
    static func resample(_ data: [Float], shape: [Int], affine: Affine, to dims: [Int], affine target: Affine) -> [Float] {
        if dims == shape && target.rows == affine.rows { return data }
        guard let inverse = affine.inverse else { return [Float](repeating: .nan, count: dims.reduce(1, *)) }
        var out = [Float](repeating: .nan, count: dims.reduce(1, *))
        for k in 0..<dims[2] {
            for j in 0..<dims[1] {
                for i in 0..<dims[0] {
                    let s = inverse.apply(target.apply([Double(i), Double(j), Double(k)])).map { Int($0.rounded()) }
                    guard s[0] >= 0, s[0] < shape[0], s[1] >= 0, s[1] < shape[1], s[2] >= 0, s[2] < shape[2] else { continue }
                    out[i + dims[0] * (j + dims[1] * k)] = data[s[0] + shape[0] * (s[1] + shape[1] * s[2])]
                }
            }
        }
        return out
    }
}

extension ReportPage {
    // MARK: - Motion of the scans that moved most

    /// For the `count` runs with the largest mean FD: the FD trace with the censored volumes
    /// shaded, and a carpet plot of the cleaned series (Power 2017).
    mutating func motionSection(_ stage: String, inputs: [TaskInput], count: Int, excluded: (Scope) -> Bool) throws {
        section(stage, "the scans that moved most")
        var runs: [(input: TaskInput, info: CleanedScan.Info)] = []
        for input in inputs {
            guard let url = input.files.first(where: { $0.key.hasSuffix(CleanedScan.infoFile) })?.value else { continue }
            runs.append((input, try CleanedScan.readInfo(url)))
        }
        let withFD = runs.filter { $0.info.quality.meanFD != nil }
        guard !withFD.isEmpty else {
            body += "<p>No run has motion parameters or framewise displacement, so there is no FD trace to show.</p>\n"
            return
        }
        let chosen = withFD.sorted { ($0.info.quality.meanFD!, $1.input.scope.label) > ($1.info.quality.meanFD!, $0.input.scope.label) }.prefix(count)
        body += "<p>The \(chosen.count) of \(runs.count) runs with the largest mean framewise displacement. Left: FD per volume after the dummy scans, censored volumes shaded. Right: the carpet plot of the cleaned series (rows: in-mask voxels in grid order, evenly subsampled; each z-scored over its kept volumes, grey from −2 to 2; censored volumes red).</p>\n"
        for run in chosen {
            let q = run.info.quality
            let label = run.input.scope.label
            let note = run.info.refusal != nil ? " <small>(refused by clean)</small>" : excluded(run.input.scope) ? " <small>(excluded by QC)</small>" : ""
            body += "<h3>\(esc(label))\(note)</h3>"
            body += "<p>Mean FD \(SVGChart.number(q.meanFD!)) mm, max \(SVGChart.number(q.maxFD ?? .nan)) mm; \(q.censoredVolumes) of \(q.volumes) volumes censored.</p>"
            body += "<div class=\"row\">"
            body += SVGChart.trace(run.info.framewiseDisplacement ?? [], marked: run.info.censoredVolumes, markedLabel: "censored",
                                   title: "Framewise displacement, \(label)", xLabel: "volume", yLabel: "FD (mm)")
            if let refusal = run.info.refusal {
                body += "<p class=\"refused\">Not cleaned, so no carpet plot: the run \(esc(refusal.reason)).</p></div>\n"
                continue
            }
            guard let url = run.input.files.first(where: { $0.key.hasSuffix(CleanedScan.carpetFile) })?.value else {
                throw InputError(path: run.input.files.values.first?.deletingLastPathComponent().path ?? label,
                                 "a cleaned run without its carpet plot (\(CleanedScan.carpetFile)): not the output of this version's clean stage")
            }
            let png = try FileSystem.read(url.path)
            guard let size = PNG.size(png) else { throw InputError(path: url.path, "is not a PNG image") }
            let name = "\(label)_carpet.png"
            images.append((name, png))
            let caption = "carpet: \(min(run.info.voxelCount, CleanedScan.carpetRows)) of \(run.info.voxelCount) voxels, \(run.info.volumes) volumes"
            body += "<figure class=\"brain\"><img src=\"\(esc(name))\" width=\"\(size.width)\" height=\"\(size.height)\" alt=\"\(esc(caption))\"><figcaption>\(esc(caption))</figcaption></figure>"
            body += "</div>\n"
        }
    }

    // MARK: - Group mean seed maps

    /// Per seed and session, the mean Fisher z map over the included runs, as slices through its
    /// peak (the seed), values with |z| ≥ `threshold` drawn over the background.
    mutating func seedMapsSection(_ stage: String, inputs: [TaskInput], threshold: Double, excluded: (Scope) -> Bool) throws {
        section(stage, "group mean seed maps")
        struct Key: Hashable, Comparable {
            var seed: String, session: String
            static func < (a: Key, b: Key) -> Bool { (a.seed, a.session) < (b.seed, b.session) }
        }
        var sums: [Key: (sum: [Double], count: [Int32], runs: Int)] = [:]
        var grid: (dims: [Int], affine: Affine)?
        let suffix = "_stat-z_connectivity.nii.gz"
        var maps: [(name: String, seed: String, session: String, url: URL)] = []
        for input in inputs where !excluded(input.scope) {
            for (name, url) in input.files.sorted(by: { $0.key < $1.key }) where name.hasSuffix(suffix) {
                guard let seed = name.components(separatedBy: "_seed-").last.map({ String($0.dropLast(suffix.count)) }) else { continue }
                maps.append((name, seed, input.scope.session ?? "", url))
            }
        }
        var index = 0
        try StageInputs.forEachImage(maps.map(\.url)) { _, image in
            let (name, seed, session, _) = maps[index]
            index += 1
            let dims = (1...3).map { max(1, Int(image.header.dim[$0])) }
            if grid == nil { grid = (dims, image.header.affine) }
            guard dims == grid!.dims, image.header.affine.rows == grid!.affine.rows else {
                body += "<p>\(esc(name)) is on another grid than the first map; left out of the mean.</p>"
                return
            }
            let n = image.data.count
            // Summed in place: a copy taken out of the dictionary would copy both arrays per map.
            Self.accumulate(image.data, into: &sums[Key(seed: seed, session: session), default: ([Double](repeating: 0, count: n), [Int32](repeating: 0, count: n), 0)])
        }
        guard let grid else {
            body += "<p>No seed map among this stage's outputs.</p>\n"
            return
        }
        body += "<p>The mean Fisher z over the runs the QC rules kept, |z| ≥ \(SVGChart.number(threshold)) drawn (the report's <code>seed_map_threshold</code>), over \(esc(background?.description ?? "the analysis mask")); slices through each map's peak.</p>\n"
        for key in sums.keys.sorted() {
            let entry = sums[key]!
            let mean = entry.sum.indices.map { entry.count[$0] > 0 ? Float(entry.sum[$0] / Double(entry.count[$0])) : 0 }
            body += "<h3>\(esc(key.seed))\(key.session.isEmpty ? "" : ", \(esc(key.session))") <small>(\(entry.runs) runs)</small></h3>"
            try mapFigure(stem: "seed-\(BIDSNames.label(key.seed))\(key.session.isEmpty ? "" : "_ses-\(BIDSNames.label(key.session))")_mean",
                          values: mean, dims: grid.dims, affine: grid.affine, threshold: threshold, projections: false,
                          label: "mean z")
        }
    }

    /// Adds a map's non-zero finite values to a running sum and count per voxel.
    private static func accumulate(_ values: [Float], into entry: inout (sum: [Double], count: [Int32], runs: Int)) {
        for i in values.indices where values[i] != 0 && values[i].isFinite {
            entry.sum[i] += Double(values[i])
            entry.count[i] += 1
        }
        entry.runs += 1
    }
}
