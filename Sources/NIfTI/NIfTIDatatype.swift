/// A NIfTI voxel datatype (the header's `datatype` field).
///
/// Codes are those of `nifti1.h`. pipe reads and writes the ten real scalar types; the complex,
/// RGB and 128-bit types are recognised (so the error says "unsupported", not "unknown") but not read.
public enum NIfTIDatatype: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case uint8 = 2
    case int16 = 4
    case int32 = 8
    case float32 = 16
    case complex64 = 32
    case float64 = 64
    case rgb24 = 128
    case int8 = 256
    case uint16 = 512
    case uint32 = 768
    case int64 = 1024
    case uint64 = 1280
    case float128 = 1536
    case complex128 = 1792
    case complex256 = 2048
    case rgba32 = 2304

    /// The real scalar types pipe reads and writes.
    public static let supported: [NIfTIDatatype] = [
        .uint8, .int8, .int16, .uint16, .int32, .uint32, .int64, .uint64, .float32, .float64,
    ]

    /// Whether pipe can read and write voxels of this type.
    public var isSupported: Bool { NIfTIDatatype.supported.contains(self) }

    /// Bits per voxel, the value `bitpix` must hold.
    public var bitsPerVoxel: Int {
        switch self {
        case .uint8, .int8: 8
        case .int16, .uint16: 16
        case .int32, .uint32, .float32: 32
        case .int64, .uint64, .float64, .complex64: 64
        case .rgb24: 24
        case .rgba32: 32
        case .float128, .complex128: 128
        case .complex256: 256
        }
    }

    /// Bytes per voxel.
    public var bytesPerVoxel: Int { bitsPerVoxel / 8 }

    /// Whether the type is an integer type (scaling to it needs slope/intercept).
    public var isInteger: Bool {
        switch self {
        case .uint8, .int8, .int16, .uint16, .int32, .uint32, .int64, .uint64: true
        default: false
        }
    }

    /// The representable range of an integer type, as doubles.
    public var integerRange: ClosedRange<Double>? {
        switch self {
        case .uint8: 0...255
        case .int8: -128...127
        case .int16: -32768...32767
        case .uint16: 0...65535
        case .int32: -2147483648...2147483647
        case .uint32: 0...4294967295
        case .int64: -9.223372036854775808e18...9.223372036854774784e18
        case .uint64: 0...1.8446744073709549568e19
        default: nil
        }
    }

    /// The name nibabel and numpy use (`int16`, `float32`, ...).
    public var description: String {
        switch self {
        case .uint8: "uint8"
        case .int8: "int8"
        case .int16: "int16"
        case .uint16: "uint16"
        case .int32: "int32"
        case .uint32: "uint32"
        case .int64: "int64"
        case .uint64: "uint64"
        case .float32: "float32"
        case .float64: "float64"
        case .float128: "float128"
        case .complex64: "complex64"
        case .complex128: "complex128"
        case .complex256: "complex256"
        case .rgb24: "RGB24"
        case .rgba32: "RGBA32"
        }
    }

    /// Parses a name like `int16` or `float32`.
    public init?(name: String) {
        guard let match = NIfTIDatatype.allCases.first(where: { $0.description.lowercased() == name.lowercased() }) else {
            return nil
        }
        self = match
    }
}
