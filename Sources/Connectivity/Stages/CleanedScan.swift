import Figures
import Foundation
import NIfTI
import PipelineEngine

/// The output of a `clean` task: the cleaned in-mask series and what is needed to map it back.
///
/// Files, named after the run (`<prefix>_space-<space>_desc-clean_...`): `_timeseries.f32`
/// (little-endian float32, volumes x voxels, row-major), `_mask.nii.gz` (uint8 on the data grid),
/// `_timeseries.json` (this struct without the series) and `desc-mean_bold.nii.gz` (each voxel's
/// mean before cleaning, 0 outside the mask: the run's mean EPI, which the report averages into
/// the cohort's anatomical background) and `desc-carpetplot_bold.png` (the carpet plot the
/// report shows). `keep: false` drops the series (and `_means.f64`) only: the record, mask,
/// mean EPI and carpet plot are all that `qc` and `report` read, so they rerun without
/// recomputing the run.
public struct CleanedScan: Sendable {
    public struct Info: Codable, Sendable, Equatable {
        /// BIDS prefix of the run, e.g. `sub-01_ses-baseline_task-rest`.
        public var prefix: String
        public var space: String
        public var repetitionTime: Double
        /// Volumes after dummy scans, and kept after censoring.
        public var volumes: Int
        public var keptVolumes: Int
        public var censoredVolumes: [Int]
        public var voxelCount: Int
        public var gridShape: [Int]
        public var affine: [[Double]]
        public var confoundColumns: [String]
        public var nonFiniteVoxels: Int
        /// Residual degrees of freedom after cleaning (see `DegreesOfFreedom`).
        public var residualDegreesOfFreedom: Int
        /// Confound columns dropped as degenerate, with why (nil: none).
        public var droppedConfounds: [String]?
        /// Voxels set to 0 because cleaning left them rounding noise only.
        public var zeroedVoxels: Int
        /// The `standardize` option the seed series get (nil: none); the voxel series are stored
        /// unstandardised.
        public var standardize: String?
        /// The input's coordinate-system code (see `LoadedScan.xformCode`).
        public var xformCode: Int32
        /// Motion, censoring, DVARS, tSNR and degrees of freedom of the run.
        public var quality: ScanQuality
        /// Framewise displacement per volume after the dummy scans (mm; the first is null), for
        /// the report's FD traces; nil without motion information.
        public var framewiseDisplacement: [Double?]?
        /// Why the run was refused (nil: cleaned). A refused run has this info file only.
        public var refusal: Refusal? = nil
    }

    /// A run `clean` refused rather than cleaned: censoring left it fewer residual degrees of
    /// freedom than `min_dof` (`DegreesOfFreedom`), though the run uncensored has enough. Its
    /// correlations would be noise, so it has no series and `connectivity` no maps; `qc` lists it
    /// in `exclusions.tsv` (rule `clean_min_dof`) and every group-level stage leaves it out with
    /// that line (`QCExclusions.select`). A run with too few degrees of freedom even uncensored
    /// (too short, too many confounds for its band) is an error instead: the settings are at
    /// fault, for every run alike.
    public struct Refusal: Codable, Sendable, Equatable {
        /// The `clean` parameter that refused it (`min_dof`), the run's value and the threshold.
        public var rule: String
        public var value: Int
        public var threshold: Int
        /// Where the degrees of freedom went (`DegreesOfFreedom.breakdown`).
        public var reason: String

        /// The rule's name in `qc`'s `exclusions.tsv` and in group-level summaries.
        public var exclusionRule: String { "clean_" + rule }
    }

    public var info: Info
    /// keptVolumes x voxels.
    public var series: SeriesBuffer
    /// Linear grid indices of the in-mask voxels.
    public var voxels: [Int]
    /// Each voxel's mean before cleaning, with `standardize: psc` (a seed's psc needs its own).
    public var originalMeans: [Double]?
    /// Each in-mask voxel's mean before cleaning, written as the run's mean EPI (nil: not written).
    public var meanImage: [Double]?

    public init(info: Info, series: SeriesBuffer, voxels: [Int], originalMeans: [Double]? = nil, meanImage: [Double]? = nil) {
        self.info = info
        self.series = series
        self.voxels = voxels
        self.originalMeans = originalMeans
        self.meanImage = meanImage
    }

    public static let seriesFile = "_desc-clean_timeseries.f32"
    public static let maskFile = "_desc-clean_mask.nii.gz"
    public static let infoFile = "_desc-clean_timeseries.json"
    /// Little-endian float64, one per voxel: `originalMeans` (only with `standardize: psc`).
    public static let meansFile = "_desc-clean_means.f64"
    /// Float32 on the data grid: the run's mean EPI (see the type's description).
    public static let meanImageFile = "_desc-mean_bold.nii.gz"
    /// The carpet plot of the cleaned series (`carpet(_:)`), a PNG.
    public static let carpetFile = "_desc-carpetplot_bold.png"
    /// The most voxel rows a carpet plot shows.
    public static let carpetRows = 300

    /// The outputs `keep: false` drops: the series and what only a reader of it needs.
    static func isBulk(_ name: String) -> Bool { name.hasSuffix(seriesFile) || name.hasSuffix(meansFile) }

    /// The file-name stem of this run's outputs.
    var stem: String { Self.stem(prefix: info.prefix, space: info.space) }

    /// `<prefix>_space-<space>`, or `<prefix>` for an input in no named space.
    static func stem(prefix: String, space: String) -> String { space.isEmpty ? prefix : "\(prefix)_space-\(space)" }

    /// Storage for `count` series values that is the series file itself, created in the task's
    /// output folder and mapped: the run is loaded and cleaned in place, and `write(to:)` only
    /// ends the file and records its digest.
    public static func makeSeries(in context: TaskContext, prefix: String, space: String, count: Int) throws -> SeriesBuffer {
        precondition(1.littleEndian == 1, "pipe's cache format is little-endian")
        let file = try context.mapOutput(stem(prefix: prefix, space: space) + seriesFile, byteCount: count * MemoryLayout<Float>.size)
        return SeriesBuffer(mapped: file, count: count)
    }

    /// Finishes a series made by `makeSeries`: cuts it to `values` and hashes it (the longest part
    /// of writing a run's outputs, which `clean` overlaps with its quality measures). False for any
    /// other series, which `write` writes.
    static func finishMappedSeries(_ series: SeriesBuffer, prefix: String, space: String, values: Int, in context: TaskContext) throws -> Bool {
        guard let file = series.mappedFile,
              file.path == context.outputDirectory.appendingPathComponent(stem(prefix: prefix, space: space) + seriesFile).path else {
            return false
        }
        try context.finishMappedOutput(file, length: values * MemoryLayout<Float>.size)
        return true
    }

    /// Writes the files into the task's output folder: `writeImages` and `writeMeanImage` (unless
    /// `imagesWritten`), the info, and the series. A series made by `makeSeries` is already in
    /// place and is cut to `keptVolumes` x `voxelCount` (unless `seriesFinished`: by
    /// `finishMappedSeries`); any other is written (and hashed while written,
    /// `TaskContext.writeOutput(_:contentsOf:)`).
    public func write(to context: TaskContext, seriesFinished: Bool = false, imagesWritten: Bool = false) throws {
        // Not fsynced here: the engine makes every output durable when it publishes the task.
        try FileSystem.write(try OutputJSON.encode(info, name: stem + Self.infoFile), to: context.outputDirectory.appendingPathComponent(stem + Self.infoFile).path, sync: false)
        if !imagesWritten {
            try writeImages(to: context)
            try writeMeanImage(to: context)
        }
        // Little-endian float32, written from memory as it is (the host is little-endian; checked below).
        precondition(1.littleEndian == 1, "pipe's cache format is little-endian")
        let count = info.keptVolumes * info.voxelCount
        precondition(series.count >= count, "the series holds \(series.count) values, fewer than \(info.keptVolumes) x \(info.voxelCount)")
        if !seriesFinished, try !Self.finishMappedSeries(series, prefix: info.prefix, space: info.space, values: count, in: context) {
            try series.withUnsafeBufferPointer { values in
                try context.writeOutput(stem + Self.seriesFile, contentsOf: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(values)[0..<(count * 4)]))
            }
        }
    }

    /// Writes the carpet plot, the mask and the means (with `standardize: psc`): what depends on
    /// the series and the run's shape, not on `info.quality`, so `clean` writes them while the
    /// series is hashed.
    func writeImages(to context: TaskContext) throws {
        let carpet = Self.carpet(self)
        try context.writeOutput(stem + Self.carpetFile, try PNG.encode(width: carpet.width, height: carpet.height, pixels: .rgb, data: carpet.rgb))
        if let originalMeans {
            try originalMeans.withUnsafeBytes { try context.writeOutput(stem + Self.meansFile, Array($0)) }
        }
        var mask = [Float](repeating: 0, count: info.gridShape.reduce(1, *))
        for v in voxels { mask[v] = 1 }
        try NIfTIFile.write(NIfTIImage(shape: info.gridShape, affine: Affine(rows: info.affine), data: mask, code: info.xformCode),
                            to: context.outputDirectory.appendingPathComponent(stem + Self.maskFile).path, options: NIfTIWriteOptions(datatype: .uint8, sync: false))
    }

    /// Writes the mean EPI, if there is one (see `writeImages`).
    func writeMeanImage(to context: TaskContext) throws {
        guard let meanImage else { return }
        var image = [Float](repeating: 0, count: info.gridShape.reduce(1, *))
        for (k, v) in voxels.enumerated() { image[v] = Float(meanImage[k]) }
        try NIfTIFile.write(NIfTIImage(shape: info.gridShape, affine: Affine(rows: info.affine), data: image, code: info.xformCode),
                            to: context.outputDirectory.appendingPathComponent(stem + Self.meanImageFile).path, options: .scanMapOutput)
    }

    /// Writes the info of a refused run, its only output.
    static func writeRefused(_ info: Info, to context: TaskContext) throws {
        let name = stem(prefix: info.prefix, space: info.space) + infoFile
        try context.writeOutput(name, try OutputJSON.encode(info, name: name))
    }

    /// Reads a clean task's info alone (its JSON), without the series.
    public static func readInfo(_ url: URL) throws -> Info {
        try OutputJSON.decode(Info.self, from: url, as: "a clean stage's \(infoFile)")
    }

    /// Reads a clean task's files; the series is mapped, not copied. `info`: the task's info,
    /// when the caller has read it already (see `readInfo`).
    /// - Throws: `InputError` for a run clean refused (it has no series).
    public static func read(files: [String: URL], info known: Info? = nil) throws -> CleanedScan {
        func find(_ suffix: String) -> URL? { files.first { $0.key.hasSuffix(suffix) }?.value }
        let notClean = InputError(path: files.values.first?.deletingLastPathComponent().path ?? "?",
                                  "not the output of a clean stage (needs \(infoFile), \(seriesFile), \(maskFile))")
        guard let infoURL = find(infoFile) else { throw notClean }
        let info = try known ?? readInfo(infoURL)
        if let refusal = info.refusal {
            throw InputError(path: infoURL.path, field: "min_dof", "the run was refused, not cleaned (it \(refusal.reason))")
        }
        guard let seriesURL = find(seriesFile), let maskURL = find(maskFile) else { throw notClean }
        let mask = try NIfTIFile.read(maskURL.path)
        let voxels = mask.data.indices.filter { mask.data[$0] > 0 }
        let count = info.keptVolumes * info.voxelCount
        precondition(1.littleEndian == 1, "pipe's cache format is little-endian")
        let file: MappedFile
        do {
            file = try MappedFile(readingFrom: seriesURL.path)
        } catch {
            throw InputError(path: seriesURL.path, "cannot be read: \(ErrorReason.of(error))")
        }
        guard voxels.count == info.voxelCount, file.bytes.count == count * MemoryLayout<Float>.size else {
            throw InputError(path: seriesURL.path, "size does not match \(infoFile): \(info.keptVolumes) x \(info.voxelCount) float32")
        }
        var means: [Double]?
        if let meansURL = find(meansFile) {
            let bytes = try FileSystem.read(meansURL.path)
            guard bytes.count == info.voxelCount * 8 else {
                throw InputError(path: meansURL.path, "size does not match \(infoFile): \(info.voxelCount) float64")
            }
            means = bytes.withUnsafeBytes { raw in (0..<info.voxelCount).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: Double.self) } }
        }
        return CleanedScan(info: info, series: SeriesBuffer(mapped: file, count: count), voxels: voxels, originalMeans: means)
    }

    /// The carpet image of a cleaned run (Power 2017): one column per volume after the dummy scans
    /// (censored ones red), one row per in-mask voxel in grid order, evenly subsampled to at most
    /// `carpetRows`, each z-scored over its kept volumes and drawn grey from −2 to 2.
    static func carpet(_ scan: CleanedScan, width: Int = 480) -> (width: Int, height: Int, rgb: [UInt8]) {
        let v = scan.info.voxelCount, kept = scan.info.keptVolumes, volumes = scan.info.volumes
        let rows = min(v, carpetRows)
        let columnWidth = max(1, width / max(1, volumes))
        let censored = Set(scan.info.censoredVolumes)
        let keptIndex = (0..<volumes).filter { !censored.contains($0) }
        var column = [Int?](repeating: nil, count: volumes)  // volume → row of the kept series
        for (k, t) in keptIndex.enumerated() where k < kept { column[t] = k }
        let w = volumes * columnWidth
        var rgb = [UInt8](repeating: 255, count: w * rows * 3)
        scan.series.withUnsafeBufferPointer { series in
            for r in 0..<rows {
                let voxel = r * v / rows
                var mean = 0.0, ss = 0.0
                for k in 0..<kept { mean += Double(series[k * v + voxel]) }
                mean /= Double(max(kept, 1))
                for k in 0..<kept { let d = Double(series[k * v + voxel]) - mean; ss += d * d }
                let sd = (ss / Double(max(kept, 1))).squareRoot()
                for t in 0..<volumes {
                    var pixel: (UInt8, UInt8, UInt8) = (244, 182, 176)
                    if let k = column[t] {
                        let z = sd > 0 ? (Double(series[k * v + voxel]) - mean) / sd : 0
                        let g = UInt8(min(max((z + 2) / 4, 0), 1) * 255)
                        pixel = (g, g, g)
                    }
                    for dx in 0..<columnWidth {
                        let p = (r * w + t * columnWidth + dx) * 3
                        rgb[p] = pixel.0; rgb[p + 1] = pixel.1; rgb[p + 2] = pixel.2
                    }
                }
            }
        }
        return (w, rows, rgb)
    }

    /// As a `LoadedScan`, for seed lookup and maps.
    public var asLoadedScan: LoadedScan {
        LoadedScan(gridShape: info.gridShape, affine: Affine(rows: info.affine), repetitionTime: info.repetitionTime,
                   volumes: info.keptVolumes, voxels: voxels, series: series, confounds: nil, nonFiniteVoxels: info.nonFiniteVoxels,
                   xformCode: info.xformCode)
    }
}
