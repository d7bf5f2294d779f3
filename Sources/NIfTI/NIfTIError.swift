/// An error from reading, writing or validating a NIfTI file.
///
/// Every error names the file it concerns and, where one header field is at fault, that field.
/// The `code` lets callers and tests branch on the kind of failure without parsing text.
public struct NIfTIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Sendable, Equatable {
        /// The file could not be opened, read or written (see `cause`).
        case io
        /// The file ends before the header, its extensions or its voxel data do.
        case truncated
        /// The file is named `.gz` (or looked gzip-compressed) but is not a gzip stream.
        case notGzip
        /// The gzip stream is corrupt: bad deflate data, CRC-32 or length mismatch, trailing garbage.
        case gzipCorrupt
        /// `sizeof_hdr` is neither 348 (NIfTI-1) nor 540 (NIfTI-2) in either byte order.
        case badHeaderSize
        /// The header's byte order cannot be decided: `sizeof_hdr` and `dim[0]` disagree.
        case undecidableByteOrder
        /// The magic string is not `n+1`/`ni1` (NIfTI-1) or `n+2`/`ni2` (NIfTI-2).
        case badMagic
        /// `dim[0]` is outside 1...7.
        case badDimensionCount
        /// A used dimension is zero or negative.
        case badDimension
        /// The voxel count or byte size does not fit in 64 bits, or exceeds what the file can hold.
        case sizeOverflow
        /// The header declares more voxel data than the file holds.
        case dataExceedsFile
        /// The datatype code is not a NIfTI datatype.
        case unknownDatatype
        /// The datatype is a NIfTI datatype that pipe does not read (complex, RGB, float128).
        case unsupportedDatatype
        /// `bitpix` disagrees with the datatype.
        case badBitpix
        /// `vox_offset` is negative, inside the header, or beyond the end of the file.
        case badVoxOffset
        /// A header extension has an invalid size.
        case badExtension
        /// The image is not a volume: a CIFTI file (intent 3000-3099).
        case notAVolume
        /// A scaling factor or voxel size is not finite.
        case badScaling
        /// The request cannot be satisfied for this image (e.g. a 3D file where 4D is needed).
        case unsupportedLayout
        /// A value cannot be stored in the requested on-disk datatype.
        case unrepresentable
    }

    /// The kind of failure.
    public var code: Code
    /// The file concerned.
    public var path: String
    /// The header field at fault, if one is.
    public var field: String?
    /// A human-readable explanation of what was found and what was expected.
    public var message: String
    /// The underlying system error number, for `.io` errors.
    public var errno: Int32?

    public init(_ code: Code, path: String, field: String? = nil, _ message: String, errno: Int32? = nil) {
        self.code = code
        self.path = path
        self.field = field
        self.message = message
        self.errno = errno
    }

    public var description: String {
        if let field { return "\(path): \(field): \(message)" }
        return "\(path): \(message)"
    }
}
