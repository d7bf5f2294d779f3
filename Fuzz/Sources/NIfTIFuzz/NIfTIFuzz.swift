#if canImport(Glibc)
import Glibc
#endif
import NIfTI

/// libFuzzer entry point: the input is a candidate NIfTI file (plain, or gzip when it starts with
/// the gzip magic). Any outcome other than an image or a `NIfTIError` is a bug: a crash, a trap, an
/// out-of-bounds access (with -sanitize=address) or an over-large allocation (libFuzzer's
/// -rss_limit_mb / -malloc_limit_mb catch these).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNIfTI(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let gz = size >= 2 && data[0] == 0x1f && data[1] == 0x8b
    let path = "/dev/shm/pipe-fuzz-\(getpid())" + (gz ? ".nii.gz" : ".nii")
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { return 0 }
    _ = write(fd, data, size)
    close(fd)
    defer { unlink(path) }
    do {
        _ = try NIfTIFile.read(path, as: Float.self)
    } catch is NIfTIError {
        // The expected outcome for malformed input.
    } catch {
        fatalError("non-NIfTIError thrown: \(error)")
    }
    return 0
}
