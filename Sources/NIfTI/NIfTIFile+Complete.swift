#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension NIfTIFile {
    /// What `trailerAgrees` found.
    public enum Completeness: Sendable, Equatable {
        /// An uncompressed file of the declared size (checked when its header is read), or a
        /// gzip file whose last trailer counts exactly vox_offset plus the data's bytes.
        case agrees
        /// A gzip file whose last trailer counts another length (mod 2^32): cut short, or made of
        /// several gzip members (each trailer counts only its own). `checkComplete` tells which.
        case trailerDiffers(expected: UInt32, found: UInt32)
    }

    /// Whether the file's length agrees with its header, cheaply: the header, then for gzip the
    /// last four bytes of the data file (the ISIZE of its last member: the uncompressed length
    /// mod 2^32), against vox_offset plus the bytes the header declares.
    /// - Throws: what reading the header throws, including `.dataExceedsFile` for a file smaller
    ///   than its data (uncompressed), or than deflate can expand to what it declares (gzip).
    public static func trailerAgrees(_ path: String) throws -> Completeness {
        try trailerAgrees(readHeader(path))
    }

    /// `trailerAgrees(_:)` for a file whose header was read (`readHeader`).
    public static func trailerAgrees(_ info: NIfTIFileInfo) throws -> Completeness {
        guard info.isCompressed else { return .agrees }
        let (_, bytes) = try info.header.dataSize(path: info.path)
        let expected = UInt32(truncatingIfNeeded: UInt64(info.header.voxOffset) &+ UInt64(bytes))
        let file = try FileDescriptor.openForReading(info.dataPath)
        var trailer = [UInt8](repeating: 0, count: 4)
        let got = trailer.withUnsafeMutableBytes { pread(file.fd, $0.baseAddress, 4, off_t(info.fileSize) - 4) }
        guard info.fileSize >= 4, got == 4 else { throw NIfTIError(.truncated, path: info.dataPath, "file ends before its gzip trailer") }
        let found = UInt32(trailer[0]) | UInt32(trailer[1]) << 8 | UInt32(trailer[2]) << 16 | UInt32(trailer[3]) << 24
        return found == expected ? .agrees : .trailerDiffers(expected: expected, found: found)
    }

    /// Reads the whole data stream as reading the image would, without keeping it: the voxels
    /// the header declares, then the rest of the stream (every gzip member's CRC-32 and length).
    /// - Throws: what reading the image throws (`.truncated`, `.gzipCorrupt`, …).
    public static func checkComplete(_ path: String) throws {
        let opened = try open(path)
        let (voxels, _) = try opened.info.header.dataSize(path: path)
        try streamVoxels(opened, voxels: voxels) { _, _, _ in }
    }

    /// Whether an image is all there, as cheaply as can tell: the header, the gzip trailer, and
    /// the whole stream only when the trailer does not agree (`checkComplete`). For images read
    /// whole later (a mask, a template), so that a file cut short is found before the task that
    /// reads it.
    public static func checkWhole(_ path: String) throws {
        if case .trailerDiffers = try trailerAgrees(path) { try checkComplete(path) }
    }
}
