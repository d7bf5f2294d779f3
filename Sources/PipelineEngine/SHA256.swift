import CSHA256
import Foundation

/// SHA-256 (FIPS 180-4), the cache's content hash: task keys, output and source digests.
///
/// The C in `CSHA256` uses the x86 SHA extensions where the CPU has them (most x86-64 CPUs since
/// 2017) and portable code elsewhere; both give the same digest (`SHA256Tests` checks them against
/// each other and against Python's hashlib).
public struct SHA256: Sendable {
    private var context = pipe_sha256_ctx()

    public init() { pipe_sha256_init(&context) }

    /// Adds the bytes of `bufferPointer`.
    public mutating func update(bufferPointer: UnsafeRawBufferPointer) {
        guard let base = bufferPointer.baseAddress, !bufferPointer.isEmpty else { return }
        pipe_sha256_update(&context, base, bufferPointer.count)
    }

    /// Adds the bytes of `data`.
    public mutating func update<D: DataProtocol>(data: D) {
        for region in data.regions { region.withUnsafeBytes { update(bufferPointer: $0) } }
    }

    /// The digest of the bytes added so far (32 bytes); the hasher can go on.
    public func finalize() -> [UInt8] {
        var copy = context
        return [UInt8](unsafeUninitializedCapacity: 32) { buffer, count in
            pipe_sha256_final(&copy, buffer.baseAddress)
            count = 32
        }
    }

    /// The digest of `data`.
    public static func hash<D: DataProtocol>(data: D) -> [UInt8] {
        var h = SHA256()
        h.update(data: data)
        return h.finalize()
    }

    /// Whether this process hashes with the CPU's SHA extensions.
    public static var accelerated: Bool { pipe_sha256_accelerated() != 0 }
}
