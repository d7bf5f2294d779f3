import Foundation
import NIfTI
import Numerics

/// Loads a BOLD run for cleaning, in nilearn masker order: read, drop dummy scans, smooth the
/// whole grid (optional, `Request.smoothingFWHM`), then extract the in-mask voxels.
///
/// Checks, each an `InputError` naming the file and what was expected:
/// - the BOLD image must be 4-D with at least 2 volumes left after dummy scans (a 3-D file, or a
///   4-D file with one volume, is refused);
/// - the sidecar's RepetitionTime and the header's TR must agree within 1% unless
///   `Request.repetitionTimeSource` (the spec's `tr_source`) says which wins, and the TR must be
///   plausible (`plausibleRepetitionTime`); `Request.repetitionTimeOverride` (the spec's
///   `repetition_time`) replaces both;
/// - a mask on another grid is resampled by nearest neighbour through the affines; a mask with no
///   voxel inside the data's field of view is refused;
/// - the confounds file must have one row per volume;
/// - some voxel inside the mask must have only finite values: a scan that is all NaN (or NaN or
///   infinite in every in-mask voxel) would clean to zeros and give all-zero maps.
/// Non-finite values are set to 0 before smoothing (as nilearn does), and counted.
///
/// Streaming: the mask is known before the data (a mask file, or no mask), so volumes are
/// decompressed on the calling thread while worker threads smooth each finished volume and copy
/// its in-mask voxels into the series (`VolumePipeline`). Smoothing computes only what the
/// in-mask values read (`SmoothingFootprint`), which leaves them bit-identical to smoothing the
/// whole grid. Memory: the series (in storage
/// the caller chooses: `clean` passes its mapped output file) plus a few volumes. An EPI mask
/// needs the whole unsmoothed run first, so that run is read whole.
public enum ScanLoader {
    /// Which repetition time to trust when the header and the sidecar disagree.
    public enum RepetitionTimeSource: String, Sendable, CaseIterable {
        /// Both must agree (within 1%); else an error.
        case check
        /// The JSON sidecar's RepetitionTime wins.
        case sidecar
        /// The NIfTI header's pixdim[4] wins.
        case header
    }

    public struct Request: Sendable {
        public var bold: String
        public var mask: String?
        public var sidecar: String?
        public var confounds: String?
        public var dummyScans: Int = 0
        public var repetitionTimeSource: RepetitionTimeSource = .check
        /// The spec's `repetition_time` in seconds, overriding the header and the sidecar (nil:
        /// read them, per `repetitionTimeSource`, and refuse a TR outside `plausibleRepetitionTime`).
        public var repetitionTimeOverride: Double?
        /// Estimate the mask from the run itself (nilearn `compute_epi_mask`), instead of a file.
        public var epiMask = false
        /// A mask file's voxels count when their value exceeds this (0 for a binary mask; e.g. 0.5
        /// for a grey-matter probability map).
        public var maskThreshold = 0.0
        /// Gaussian smoothing FWHM in mm, on the whole grid before masking (0: none).
        public var smoothingFWHM = 0.0

        public init(bold: String, mask: String? = nil, sidecar: String? = nil, confounds: String? = nil,
                    dummyScans: Int = 0, repetitionTimeSource: RepetitionTimeSource = .check,
                    epiMask: Bool = false, maskThreshold: Double = 0, smoothingFWHM: Double = 0) {
            self.bold = bold
            self.mask = mask
            self.sidecar = sidecar
            self.confounds = confounds
            self.dummyScans = dummyScans
            self.repetitionTimeSource = repetitionTimeSource
            self.epiMask = epiMask
            self.maskThreshold = maskThreshold
            self.smoothingFWHM = smoothingFWHM
        }
    }

    /// Loads a run. Steps, in order (each check in the order listed in the type's summary): check
    /// the shape; find the TR; with an EPI mask, read the whole run and compute the mask from it,
    /// else read the mask file (or take every voxel); list the in-mask voxels; stream the volumes
    /// into the series; read the confounds; refuse a run with no finite in-mask voxel.
    /// - Parameter storage: makes the series' storage for a given number of float32 values, once
    ///   the mask is known (by default, memory of its own; `clean` passes its mapped output file).
    /// - Throws: `InputError` for a check that fails (see the type's summary), or the reader's error.
    public static func load(_ request: Request, storage: (Int) throws -> SeriesBuffer = { SeriesBuffer(zeros: $0) }) throws -> LoadedScan {
        let reader = try NIfTIVolumeReader<Float>(path: request.bold)
        let header = reader.info.header
        let (grid, total) = try checkShape(request, header: header)
        let tr = try repetitionTime(request, header: header)
        let affine = header.affine
        let volumes = total - request.dummyScans
        let smoothing = request.smoothingFWHM > 0
            ? try GaussianSmoothing(fwhm: [request.smoothingFWHM], voxelSize: affine.voxelSizes) : nil

        var run = WholeRun(whole: [], nonFinite: [Bool](repeating: false, count: reader.voxelsPerVolume),
                           maskValues: [Float](repeating: 1, count: reader.voxelsPerVolume))
        if request.epiMask && request.mask == nil {
            run = try readWholeRun(reader, request, grid: grid, volumes: volumes)
        }
        if let maskPath = request.mask {
            run.maskValues = try resampledMask(maskPath, to: grid, affine: affine)
        }
        let voxels = try inMaskVoxels(run.maskValues, request, count: reader.voxelsPerVolume)

        let series = try storage(volumes * voxels.count)
        try fillSeries(series, from: reader, request, run: &run, volumes: volumes, grid: grid, voxels: voxels,
                       smoothing: smoothing)
        let confounds = try readConfounds(request, total: total, volumes: volumes)
        let inMaskNonFinite = voxels.filter { run.nonFinite[$0] }.count
        if inMaskNonFinite == voxels.count {
            throw noFiniteVoxel(request, voxels: voxels.count, inside: request.mask.map { "the mask \($0)" } ?? "the mask")
        }
        return LoadedScan(gridShape: grid, affine: affine, repetitionTime: tr, volumes: volumes, voxels: voxels,
                          series: series, confounds: confounds, nonFiniteVoxels: inMaskNonFinite,
                          xformCode: LoadedScan.xformCode(of: header))
    }

    /// What `load` knows of the run before streaming it: the whole unsmoothed run (EPI mask only;
    /// dummy scans dropped, non-finite values zeroed), which voxels had a non-finite value, and the
    /// mask's value at each voxel of the grid.
    private struct WholeRun {
        var whole: [Float]
        var nonFinite: [Bool]
        var maskValues: [Float]
    }

    /// Checks that the BOLD image is 4-D with at least 2 volumes left after the dummy scans.
    /// - Returns: the 3-D grid and the number of volumes in the file.
    static func checkShape(_ request: Request, header: NIfTIHeader) throws -> (grid: [Int], total: Int) {
        let shape = header.shape
        guard shape.count >= 4, shape[3] > 1, shape.dropFirst(4).allSatisfy({ $0 == 1 }) else {
            let what = shape.count < 4 ? "a \(shape.count)-D image" : "\(shape.map(String.init).joined(separator: "x"))"
            throw InputError(path: request.bold, field: "dim", "is \(what); expected a 4-D BOLD series with more than one volume")
        }
        let total = shape[3]
        guard request.dummyScans >= 0, total - request.dummyScans >= 2 else {
            throw InputError(path: request.bold, field: "dummy_scans",
                             "dropping \(request.dummyScans) of \(total) volumes leaves fewer than 2")
        }
        return (Array(shape.prefix(3)), total)
    }

    /// Reads the whole run (dummy scans dropped), zeroes its non-finite values, and computes the EPI
    /// mask on it unsmoothed, as nilearn's maskers do.
    /// - Throws: `InputError` when no voxel of the image is finite throughout (checked before the
    ///   mask: on an all-NaN run it would be computed on zeros).
    private static func readWholeRun(_ reader: NIfTIVolumeReader<Float>, _ request: Request, grid: [Int], volumes: Int) throws -> WholeRun {
        let perVolume = reader.voxelsPerVolume
        var whole = [Float](repeating: 0, count: volumes * perVolume)
        var nonFinite = [Bool](repeating: false, count: perVolume)
        try whole.withUnsafeMutableBufferPointer { data in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: perVolume)
            defer { scratch.deallocate() }
            for _ in 0..<request.dummyScans { try reader.read(into: scratch) }
            for t in 0..<volumes { try reader.read(into: data.baseAddress! + t * perVolume) }
        }
        for i in whole.indices where !whole[i].isFinite {
            whole[i] = 0
            nonFinite[i % perVolume] = true
        }
        if !nonFinite.contains(false) { throw noFiniteVoxel(request, voxels: perVolume, inside: "the image") }
        let mask = try EPIBrainMask().compute(whole, shape: grid + [volumes]).map { $0 ? Float(1) : 0 }
        return WholeRun(whole: whole, nonFinite: nonFinite, maskValues: mask)
    }

    /// A mask file's values on the BOLD grid, resampled by nearest neighbour through the affines.
    private static func resampledMask(_ path: String, to grid: [Int], affine: Affine) throws -> [Float] {
        let mask = try NIfTIFile.read(path, as: Float.self)
        guard mask.shape.prefix(3).count == 3 else {
            throw InputError(path: path, field: "dim", "a mask must be 3-D")
        }
        return SeedGeometry.resampleNearest(mask.data, shape: Array(mask.shape.prefix(3)), affine: mask.affine,
                                            to: grid, affine: affine)
    }

    /// The voxels whose mask value exceeds the threshold.
    /// - Throws: `InputError` when there is none.
    private static func inMaskVoxels(_ maskValues: [Float], _ request: Request, count: Int) throws -> [Int] {
        let threshold = Float(request.maskThreshold)
        let voxels = (0..<count).filter { maskValues[$0] > threshold }
        guard !voxels.isEmpty else {
            throw InputError(path: request.mask ?? request.bold, field: "mask",
                             "has no voxel inside the BOLD image's field of view (\(request.bold)); is it on another grid or in another space?")
        }
        return voxels
    }

    /// Fills `series` (volumes x voxels) from the file, or from `run.whole` when the run was read
    /// whole: worker threads zero the non-finite values of a streamed run that can hold them
    /// (marking them in `run.nonFinite`; `readWholeRun` did it for a whole one), smooth what
    /// the in-mask voxels need (`SmoothingFootprint`), and copy the in-mask voxels.
    private static func fillSeries(_ series: SeriesBuffer, from reader: NIfTIVolumeReader<Float>, _ request: Request,
                                   run: inout WholeRun, volumes: Int, grid: [Int], voxels: [Int],
                                   smoothing: GaussianSmoothing?) throws {
        let perVolume = reader.voxelsPerVolume
        let workers = Parallel.workers(for: volumes), slots = VolumePipeline.slots(workers: workers)
        var workerNonFinite = [[Bool]](repeating: [], count: slots)
        let scratches = smoothing.map { s in (0..<slots).map { _ in SmoothingScratch(shape: grid, smoothing: s) } }
        let footprint = smoothing.map { SmoothingFootprint(voxels: voxels, shape: grid, smoothing: $0) }
        // Streaming, the buffers carry the stored bytes and each worker decodes into its own volume
        // (conversion off the decompressing thread); from the whole run, they carry float32 volumes.
        let whole = run.whole
        let streaming = whole.isEmpty
        // Nothing to zero: the whole run was zeroed as it was read, and integers (scaled within
        // float32's range) decode to finite values only.
        let finiteOnly = !streaming || reader.decodesOnlyFiniteValues
        let decoded = streaming ? (0..<slots).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: perVolume) } : []
        defer { for d in decoded { d.deallocate() } }
        try series.withUnsafeMutableBufferPointer { seriesBuffer in
            try workerNonFinite.withUnsafeMutableBufferPointer { flags in
                let out = seriesBuffer.baseAddress!
                if streaming {
                    let skipped = UnsafeMutableRawPointer.allocate(byteCount: reader.bytesPerVolume, alignment: 64)
                    defer { skipped.deallocate() }
                    for _ in 0..<request.dummyScans { try reader.readRaw(into: skipped) }
                }
                try VolumePipeline.run(volumes: volumes, bytesPerVolume: max(reader.bytesPerVolume, 4 * perVolume),
                                       workers: workers) { t, buffer in
                    if streaming {
                        try reader.readRaw(into: buffer)
                    } else {
                        whole.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress! + 4 * t * perVolume, byteCount: 4 * perVolume) }
                    }
                } consume: { t, buffer, worker in
                    let volume: UnsafeMutablePointer<Float>
                    if streaming {
                        volume = decoded[worker]
                        reader.decode(buffer, into: volume)
                    } else {
                        volume = buffer.assumingMemoryBound(to: Float.self)
                    }
                    if !finiteOnly { zeroNonFinite(volume, count: perVolume, flags: &flags[worker]) }
                    if let smoothing {
                        smoothing.smooth(volume: volume, shape: grid, keeping: footprint!, scratch: scratches![worker])
                    }
                    let row = out + t * voxels.count
                    for (n, v) in voxels.enumerated() { row[n] = volume[v] }
                }
            }
        }
        for flags in workerNonFinite where !flags.isEmpty {
            for i in flags.indices where flags[i] { run.nonFinite[i] = true }
        }
    }

    /// The confounds table with the dummy scans' rows dropped.
    /// - Throws: `InputError` when it does not have one row per volume of the file.
    private static func readConfounds(_ request: Request, total: Int, volumes: Int) throws -> ConfoundsTable? {
        guard let path = request.confounds else { return nil }
        return try trimmed(ConfoundsTable.read(path), path: path, bold: request.bold, total: total, dummyScans: request.dummyScans)
    }

    /// `table` (read from `path`) with the dummy scans' rows dropped.
    /// - Throws: `InputError` when it does not have one row per volume of the file.
    static func trimmed(_ table: ConfoundsTable, path: String, bold: String, total: Int, dummyScans: Int) throws -> ConfoundsTable {
        var table = table
        guard table.rowCount == total else {
            throw InputError(path: path, "has \(table.rowCount) rows; the BOLD series \(bold) has \(total) volumes")
        }
        for name in table.names { table.columns[name] = Array(table.columns[name]!.dropFirst(dummyScans)) }
        table.rowCount = total - dummyScans
        return table
    }

    /// The error for a run with no voxel whose values are all finite.
    private static func noFiniteVoxel(_ request: Request, voxels: Int, inside: String) -> InputError {
        InputError(path: request.bold, field: "data",
                   "every one of the \(voxels) voxels inside \(inside) is NaN or infinite in some volume; "
                   + "no voxel has a usable time series (cleaning would set them to 0 and every map would be 0)")
    }

    /// Sets non-finite values of a volume to 0 and marks their positions in `flags` (allocated on
    /// first use); one pass that only reads when every value is finite.
    private static func zeroNonFinite(_ volume: UnsafeMutablePointer<Float>, count: Int, flags: inout [Bool]) {
        // Exponent bits all ones (NaN, ±Inf) carry into the sign bit when 1 is added to the exponent.
        let bits = UnsafeRawPointer(volume).assumingMemoryBound(to: UInt32.self)
        var carry: UInt32 = 0
        for i in 0..<count { carry |= (bits[i] & 0x7f80_0000) &+ 0x0080_0000 }
        if carry & 0x8000_0000 == 0 { return }
        if flags.isEmpty { flags = [Bool](repeating: false, count: count) }
        for i in 0..<count where !volume[i].isFinite {
            volume[i] = 0
            flags[i] = true
        }
    }

    /// TRs a scanner produces; outside it, the file almost certainly has the wrong unit (a TR of
    /// 2000 "seconds" is 2000 ms), and every band-pass cut-off would fall above Nyquist.
    public static let plausibleRepetitionTime = NIfTIHeader.plausibleRepetitionTime

    /// The run's TR: the spec's override, else the sidecar and/or header per the request.
    /// - Throws: `InputError` when they disagree, are missing, or give an implausible TR.
    static func repetitionTime(_ request: Request, header: NIfTIHeader) throws -> Double {
        if let tr = request.repetitionTimeOverride { return tr }
        let tr = try recordedRepetitionTime(request, header: header)
        guard plausibleRepetitionTime.contains(tr) else {
            throw InputError(path: request.sidecar ?? request.bold, field: "RepetitionTime",
                             "is \(tr) s, outside \(plausibleRepetitionTime.lowerBound)–\(Int(plausibleRepetitionTime.upperBound)) s (milliseconds written as seconds?); set repetition_time in the clean stage to the TR in seconds")
        }
        return tr
    }

    static func recordedRepetitionTime(_ request: Request, header: NIfTIHeader) throws -> Double {
        let fromHeader = header.repetitionTime
        let fromSidecar = try request.sidecar.map { try FMRIPrepLayout.repetitionTime(sidecar: $0) }
        switch request.repetitionTimeSource {
        case .sidecar:
            guard let fromSidecar else {
                throw InputError(path: request.bold, field: "tr_source", "is \"sidecar\" but the run has no JSON sidecar")
            }
            return fromSidecar
        case .header:
            guard let fromHeader else {
                throw InputError(path: request.bold, field: "pixdim[4]", "is \(header.pixdim[4]); expected a positive TR in the header")
            }
            return fromHeader
        case .check:
            switch (fromHeader, fromSidecar) {
            case let (h?, s?):
                if abs(h - s) > 0.01 * s {
                    throw InputError(path: request.sidecar!, field: "RepetitionTime",
                                     "is \(s) s but the header of \(request.bold) says \(h) s; set tr_source to \"sidecar\" or \"header\" to choose")
                }
                return s
            case let (nil, s?): return s
            case let (h?, nil): return h
            case (nil, nil):
                throw InputError(path: request.bold, field: "pixdim[4]", "no TR in the header and no JSON sidecar with RepetitionTime")
            }
        }
    }
}
