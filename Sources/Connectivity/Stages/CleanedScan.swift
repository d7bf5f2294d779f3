import Foundation
import NIfTI
import PipelineEngine

/// The output of a `clean` task: the cleaned in-mask series and what is needed to map it back.
///
/// Files, named after the run (`<prefix>_space-<space>_desc-clean_...`): `_timeseries.f32`
/// (little-endian float32, volumes x voxels, row-major), `_mask.nii.gz` (uint8 on the data grid)
/// and `_timeseries.json` (this struct without the series).
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
    }

    public var info: Info
    /// keptVolumes x voxels.
    public var series: [Float]
    /// Linear grid indices of the in-mask voxels.
    public var voxels: [Int]

    public static let seriesFile = "_desc-clean_timeseries.f32"
    public static let maskFile = "_desc-clean_mask.nii.gz"
    public static let infoFile = "_desc-clean_timeseries.json"

    /// The file-name stem of this run's outputs.
    var stem: String { "\(info.prefix)_space-\(info.space)" }

    /// Writes the three files into the task's output folder; the series is hashed while it is
    /// written (`TaskContext.writeOutput(_:contentsOf:)`).
    public func write(to context: TaskContext) throws {
        let folder = context.outputDirectory
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // Not fsynced here: the engine fsyncs every output when it publishes the task.
        try FileSystem.write(Array(encoder.encode(info)), to: folder.appendingPathComponent(stem + Self.infoFile).path, sync: false)
        // Little-endian float32, written from the array itself (the host is little-endian; checked below).
        precondition(1.littleEndian == 1, "pipe's cache format is little-endian")
        try series.withUnsafeBytes { try context.writeOutput(stem + Self.seriesFile, contentsOf: $0) }
        var mask = [Float](repeating: 0, count: info.gridShape.reduce(1, *))
        for v in voxels { mask[v] = 1 }
        try NIfTIFile.write(NIfTIImage(shape: info.gridShape, affine: Affine(rows: info.affine), data: mask, code: 4),
                            to: folder.appendingPathComponent(stem + Self.maskFile).path, options: NIfTIWriteOptions(datatype: .uint8))
    }

    /// Reads a clean task's files.
    public static func read(files: [String: URL]) throws -> CleanedScan {
        func find(_ suffix: String) -> URL? { files.first { $0.key.hasSuffix(suffix) }?.value }
        guard let infoURL = find(infoFile), let seriesURL = find(seriesFile), let maskURL = find(maskFile) else {
            throw InputError(path: files.values.first?.deletingLastPathComponent().path ?? "?", "not the output of a clean stage (needs \(infoFile), \(seriesFile), \(maskFile))")
        }
        let info = try JSONDecoder().decode(Info.self, from: Data(contentsOf: infoURL))
        let mask = try NIfTIFile.read(maskURL.path)
        let voxels = mask.data.indices.filter { mask.data[$0] > 0 }
        let count = info.keptVolumes * info.voxelCount
        let size = try FileSystem.identity(of: seriesURL.path)?.size ?? -1
        guard voxels.count == info.voxelCount, size == Int64(count) * 4 else {
            throw InputError(path: seriesURL.path, "size does not match \(infoFile): \(info.keptVolumes) x \(info.voxelCount) float32")
        }
        // Read straight into the array (no intermediate copy of the file).
        precondition(1.littleEndian == 1, "pipe's cache format is little-endian")
        var failure: (any Error)?
        let series = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            do {
                if try FileSystem.read(seriesURL.path, into: UnsafeMutableRawBufferPointer(buffer)) < count * 4 {
                    throw InputError(path: seriesURL.path, "is shorter than \(info.keptVolumes) x \(info.voxelCount) float32")
                }
            } catch {
                buffer.initialize(repeating: 0)
                failure = error
            }
            initialized = count
        }
        if let failure { throw failure }
        return CleanedScan(info: info, series: series, voxels: voxels)
    }

    /// As a `LoadedScan`, for seed lookup and maps.
    public var asLoadedScan: LoadedScan {
        LoadedScan(gridShape: info.gridShape, affine: Affine(rows: info.affine), repetitionTime: info.repetitionTime,
                   volumes: info.keptVolumes, voxels: voxels, series: series, confounds: nil, nonFiniteVoxels: info.nonFiniteVoxels)
    }
}
