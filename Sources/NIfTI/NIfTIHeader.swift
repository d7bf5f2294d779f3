/// A NIfTI-1 or NIfTI-2 header, decoded into version-independent Swift values.
///
/// Widths are those of NIfTI-2 (64-bit dims and offsets, double reals); a NIfTI-1 header decodes
/// into the same model, and encoding it back as NIfTI-1 narrows the values (checked in
/// `NIfTIHeader+Layout`). The byte layout of each version is one declarative table of fields with
/// their offsets (`NIfTIHeader.layout(for:)`), after nibabel's `nifti1.py`.
public struct NIfTIHeader: Sendable, Equatable {
    /// NIfTI-1 (348-byte header) or NIfTI-2 (540-byte header).
    public enum Version: Int, Sendable { case nifti1 = 1, nifti2 = 2 }

    /// Header format version.
    public var version: Version = .nifti1
    /// Whether the header sits in a single file with the data (`n+1`/`n+2`) or in a `.hdr` beside
    /// an `.img` (`ni1`/`ni2`).
    public var isSingleFile: Bool = true
    /// `dim[0...7]`: `dim[0]` is the number of dimensions, `dim[1...]` their lengths.
    public var dim: [Int64] = [3, 1, 1, 1, 1, 1, 1, 1]
    /// `pixdim[0...7]`: `pixdim[0]` is qfac (±1), `pixdim[1...3]` voxel sizes, `pixdim[4]` the TR.
    public var pixdim: [Double] = [1, 1, 1, 1, 1, 1, 1, 1]
    /// The raw datatype code.
    public var datatypeCode: Int32 = NIfTIDatatype.float32.rawValue
    /// Bits per voxel as stored.
    public var bitpix: Int32 = 32
    /// Byte offset of the voxel data in the data file.
    public var voxOffset: Double = 352
    /// Scaling slope; 0 (or non-finite, per nibabel) means "no scaling".
    public var sclSlope: Double = 0
    /// Scaling intercept.
    public var sclInter: Double = 0
    /// Units of `pixdim[1...3]` (bits 0-2) and `pixdim[4]` (bits 3-5).
    public var xyztUnits: Int32 = 0
    /// Frequency, phase and slice encoding dimensions, two bits each.
    public var dimInfo: UInt8 = 0
    /// Statistical intent code.
    public var intentCode: Int32 = 0
    /// Intent parameters.
    public var intentP1: Double = 0
    public var intentP2: Double = 0
    public var intentP3: Double = 0
    /// Intent name, up to 16 bytes.
    public var intentName: String = ""
    /// Free-text description, up to 80 bytes.
    public var descrip: String = ""
    /// Auxiliary file name, up to 24 bytes.
    public var auxFile: String = ""
    /// Display range.
    public var calMax: Double = 0
    public var calMin: Double = 0
    /// Slice timing fields.
    public var sliceStart: Int64 = 0
    public var sliceEnd: Int64 = 0
    public var sliceCode: Int32 = 0
    public var sliceDuration: Double = 0
    /// Time offset of the first volume.
    public var toffset: Double = 0
    /// qform code (0 = unknown, 1 = scanner, 2 = aligned, 3 = Talairach, 4 = MNI152, 5 = template).
    public var qformCode: Int32 = 0
    /// sform code, same values as `qformCode`.
    public var sformCode: Int32 = 0
    /// qform quaternion (b, c, d; a is derived) and offsets.
    public var quaternB: Double = 0
    public var quaternC: Double = 0
    public var quaternD: Double = 0
    public var qoffsetX: Double = 0
    public var qoffsetY: Double = 0
    public var qoffsetZ: Double = 0
    /// sform rows.
    public var srowX: [Double] = [0, 0, 0, 0]
    public var srowY: [Double] = [0, 0, 0, 0]
    public var srowZ: [Double] = [0, 0, 0, 0]

    public init() {}

    /// The datatype, if the code is a NIfTI datatype.
    public var datatype: NIfTIDatatype? { NIfTIDatatype(rawValue: datatypeCode) }

    /// The number of dimensions, `dim[0]`.
    public var rank: Int { Int(dim[0]) }

    /// The image shape, `dim[1...dim[0]]`.
    public var shape: [Int] {
        guard (1...7).contains(dim[0]) else { return [] }
        return dim[1...Int(dim[0])].map { Int($0) }
    }

    /// Sets `dim` from a shape of 1 to 7 lengths.
    public mutating func setShape(_ shape: [Int]) {
        precondition((1...7).contains(shape.count), "a NIfTI image has 1 to 7 dimensions")
        dim = [Int64(shape.count)] + shape.map { Int64($0) } + Array(repeating: 1, count: 7 - shape.count)
    }

    /// Voxel sizes `pixdim[1...3]` (for the spatial axes present).
    public var zooms: [Double] { Array(pixdim[1...3]) }

    /// The effective scaling, nibabel's rule: a slope of 0 or a non-finite slope or intercept
    /// means "no scaling" (`nil`).
    public var scaling: (slope: Double, intercept: Double)? {
        guard sclSlope != 0, sclSlope.isFinite, sclInter.isFinite else { return nil }
        if sclSlope == 1 && sclInter == 0 { return nil }
        return (sclSlope, sclInter)
    }

    /// Whether the intent code marks a CIFTI file (3000...3099), which is not a volume.
    public var isCIFTI: Bool { (3000...3099).contains(intentCode) }
}
