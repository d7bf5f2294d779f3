/// A floating-point type voxel data can be read into: `Float` (the default) or `Double`.
public protocol NIfTIScalar: BinaryFloatingPoint, Sendable {}
extension Float: NIfTIScalar {}
extension Double: NIfTIScalar {}

/// A NIfTI image in memory: its header, extensions and voxel values.
///
/// Data convention: `data` holds the voxels in file order, the first axis fastest
/// (`index = i + nx * (j + ny * (k + nz * t))`), with `scl_slope`/`scl_inter` already applied.
/// The header still describes the file as it was on disk (datatype, scaling, byte order).
public struct NIfTIImage<Scalar: NIfTIScalar>: Sendable {
    public var header: NIfTIHeader
    public var extensions: [NIfTIExtension]
    public var data: [Scalar]

    public init(header: NIfTIHeader, extensions: [NIfTIExtension] = [], data: [Scalar]) {
        self.header = header
        self.extensions = extensions
        self.data = data
    }

    /// A new image of `shape` in the world space of `affine`, stored with both qform and sform
    /// (code 2, "aligned", unless `code` says otherwise), units mm and s, and `repetitionTime` in
    /// `pixdim[4]` for a 4D image.
    public init(shape: [Int], affine: Affine, data: [Scalar], repetitionTime: Double? = nil, code: Int32 = 2) {
        precondition(shape.reduce(1, *) == data.count, "data count must equal the product of the shape")
        var header = NIfTIHeader()
        header.setShape(shape)
        header.setAffine(affine, code: code)
        header.xyztUnits = 2 | 8
        if let repetitionTime, shape.count >= 4 { header.pixdim[4] = repetitionTime }
        self.init(header: header, data: data)
    }

    /// The shape, `dim[1...dim[0]]`.
    public var shape: [Int] { header.shape }

    /// The voxel-to-world affine (sform, else qform, else from pixdim).
    public var affine: Affine { header.affine }

    /// The repetition time in seconds, if the image is 4D with a time axis.
    public var repetitionTime: Double? { header.repetitionTime }

    /// Voxels per volume: the product of the first three dimensions.
    public var voxelsPerVolume: Int { shape.prefix(3).reduce(1, *) }

    /// Volumes: the product of the dimensions after the third (1 for a 3D image).
    public var volumeCount: Int { shape.dropFirst(3).reduce(1, *) }
}
