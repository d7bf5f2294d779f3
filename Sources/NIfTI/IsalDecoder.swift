internal import CIsal
import Foundation

/// ISA-L's igzip inflate (2–3× zlib's speed), for `GzipInflateSource`: loaded at run time, so a
/// binary still reads .nii.gz with zlib where ISA-L is absent. ISA-L checks each member's CRC-32
/// and ISIZE itself.
final class IsalDecoder: GzipMemberDecoder {
    private let stream: OpaquePointer

    /// Whether ISA-L can be used here, and is not turned off (`PIPE_INFLATE=zlib`).
    static let isAvailable: Bool = {
        if let choice = getenv("PIPE_INFLATE"), String(cString: choice) == "zlib" { return false }
        return pipe_isal_available() != 0
    }()

    init(path: String) throws {
        guard let stream = pipe_isal_create() else {
            throw NIfTIError(.io, path: path, "cannot start ISA-L's inflate")
        }
        self.stream = stream
    }

    deinit { pipe_isal_destroy(stream) }

    func reset(path: String) throws { pipe_isal_reset(stream) }

    func inflate(_ next: inout UnsafePointer<UInt8>?, _ available: inout UInt32, into output: UnsafeMutablePointer<UInt8>,
                 _ outputSpace: inout UInt32, path: String) throws -> Bool {
        var out: UnsafeMutablePointer<UInt8>? = output
        let status = pipe_isal_inflate(stream, &next, &available, &out, &outputSpace)
        switch status {
        case 0: return false
        case 1: return true
        case -6:
            throw NIfTIError(.gzipCorrupt, path: path, "corrupt gzip data: incorrect data check or incorrect length check (a member's CRC-32 or ISIZE; ISA-L does not say which)")
        case -4, -5:
            throw NIfTIError(.gzipCorrupt, path: path, "corrupt gzip data: invalid gzip header")
        default:
            throw NIfTIError(.gzipCorrupt, path: path, "corrupt gzip data: invalid deflate data (ISA-L status \(status))")
        }
    }
}
