import NIfTI
import Numerics

/// Loads a BOLD run for cleaning, in nilearn masker order: read, drop dummy scans, smooth the
/// whole grid (optional, via `smooth`), then extract the in-mask voxels.
///
/// Checks, each an `InputError` naming the file and what was expected:
/// - the BOLD image must be 4-D with at least 2 volumes left after dummy scans (a 3-D file, or a
///   4-D file with one volume, is refused);
/// - the sidecar's RepetitionTime and the header's TR must agree within 1% unless `trSource` says
///   which wins;
/// - a mask on another grid is resampled by nearest neighbour through the affines; a mask with no
///   voxel inside the data's field of view is refused;
/// - the confounds file must have one row per volume.
/// Non-finite values are set to 0 before smoothing (as nilearn does), and counted.
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
        /// Estimate the mask from the run itself (nilearn `compute_epi_mask`), instead of a file.
        public var epiMask = false
        /// A mask file's voxels count when their value exceeds this (0 for a binary mask; e.g. 0.5
        /// for a grey-matter probability map).
        public var maskThreshold = 0.0

        public init(bold: String, mask: String? = nil, sidecar: String? = nil, confounds: String? = nil,
                    dummyScans: Int = 0, repetitionTimeSource: RepetitionTimeSource = .check,
                    epiMask: Bool = false, maskThreshold: Double = 0) {
            self.bold = bold
            self.mask = mask
            self.sidecar = sidecar
            self.confounds = confounds
            self.dummyScans = dummyScans
            self.repetitionTimeSource = repetitionTimeSource
            self.epiMask = epiMask
            self.maskThreshold = maskThreshold
        }
    }

    /// - Parameter smooth: called once with the 4-D grid data (volume-major, x fastest), the 3-D
    ///   shape, the volume count and the affine, before masking.
    public static func load(
        _ request: Request, smooth: ((inout [Float], [Int], Int, Affine) throws -> Void)? = nil
    ) throws -> LoadedScan {
        var image = try NIfTIFile.read(request.bold, as: Float.self)
        let shape = image.shape
        guard shape.count >= 4, shape[3] > 1, shape.dropFirst(4).allSatisfy({ $0 == 1 }) else {
            let what = shape.count < 4 ? "a \(shape.count)-D image" : "\(shape.map(String.init).joined(separator: "x"))"
            throw InputError(path: request.bold, field: "dim", "is \(what); expected a 4-D BOLD series with more than one volume")
        }
        let grid = Array(shape.prefix(3)), perVolume = grid.reduce(1, *)
        let total = shape[3]
        guard request.dummyScans >= 0, total - request.dummyScans >= 2 else {
            throw InputError(path: request.bold, field: "dummy_scans",
                             "dropping \(request.dummyScans) of \(total) volumes leaves fewer than 2")
        }
        let tr = try repetitionTime(request, header: image.header)

        // Drop dummy scans in place (no second full-size copy: peak memory stays near one float32
        // copy of the run), then zero non-finite values (nilearn sets them to 0 before smoothing).
        var data = image.data
        image.data = []
        data.removeSubrange(0..<(request.dummyScans * perVolume))
        let volumes = total - request.dummyScans
        var nonFinite = Set<Int>()
        for i in data.indices where !data[i].isFinite {
            data[i] = 0
            nonFinite.insert(i % perVolume)
        }
        var maskValues = [Float](repeating: 1, count: perVolume)
        if request.epiMask {
            // On the unsmoothed run, as nilearn's maskers compute it.
            maskValues = try EPIBrainMask().compute(data, shape: grid + [volumes]).map { $0 ? 1 : 0 }
        }
        if let smooth { try smooth(&data, grid, volumes, image.affine) }

        if let maskPath = request.mask {
            let mask = try NIfTIFile.read(maskPath, as: Float.self)
            guard mask.shape.prefix(3).count == 3 else {
                throw InputError(path: maskPath, field: "dim", "a mask must be 3-D")
            }
            maskValues = SeedGeometry.resampleNearest(mask.data, shape: Array(mask.shape.prefix(3)), affine: mask.affine,
                                                      to: grid, affine: image.affine)
        }
        let threshold = Float(request.maskThreshold)
        let voxels = (0..<perVolume).filter { maskValues[$0] > threshold }
        if voxels.isEmpty {
            throw InputError(path: request.mask ?? request.bold, field: "mask",
                             "has no voxel inside the BOLD image's field of view (\(request.bold)); is it on another grid or in another space?")
        }
        var series = [Float](repeating: 0, count: volumes * voxels.count)
        for t in 0..<volumes {
            let row = t * voxels.count, base = t * perVolume
            for (n, v) in voxels.enumerated() { series[row + n] = data[base + v] }
        }

        var confounds: ConfoundsTable?
        if let path = request.confounds {
            var table = try ConfoundsTable.read(path)
            guard table.rowCount == total else {
                throw InputError(path: path, "has \(table.rowCount) rows; the BOLD series \(request.bold) has \(total) volumes")
            }
            for name in table.names { table.columns[name] = Array(table.columns[name]!.dropFirst(request.dummyScans)) }
            table.rowCount = volumes
            confounds = table
        }
        let inMaskNonFinite = voxels.filter { nonFinite.contains($0) }.count
        return LoadedScan(gridShape: grid, affine: image.affine, repetitionTime: tr, volumes: volumes, voxels: voxels,
                          series: series, confounds: confounds, nonFiniteVoxels: inMaskNonFinite)
    }

    static func repetitionTime(_ request: Request, header: NIfTIHeader) throws -> Double {
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
