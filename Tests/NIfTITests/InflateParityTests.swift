import Foundation
import XCTest
@testable import NIfTI
import TestSupport

/// ISA-L's inflate (the reader's codec where ISA-L is installed) against zlib's (the fallback):
/// on the same files, the same bytes, read in chunks of every size, and the same error for every
/// kind of damage.
final class InflateParityTests: XCTestCase {
    enum Outcome: Equatable {
        case bytes([UInt8])
        case error(NIfTIError.Code)
    }

    /// Decodes `url` with one codec, reading `chunk` bytes at a time.
    func decode(_ url: URL, isal: Bool, chunk: Int) -> Outcome {
        do {
            let fd = try FileDescriptor.openForReading(url.path)
            let source = try GzipInflateSource(fd, decoder: isal ? IsalDecoder(path: url.path) : ZlibDecoder(path: url.path), inputBufferSize: 4096)
            var out: [UInt8] = []
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
            defer { buffer.deallocate() }
            while true {
                let got = try source.read(into: buffer)
                out += buffer[0..<got]
                if got < chunk { break }
            }
            try source.finish()
            return .bytes(out)
        } catch let e as NIfTIError {
            return .error(e.code)
        } catch {
            return .error(.io)
        }
    }

    func gzip(_ data: Data, level: String = "-6") throws -> Data {
        let folder = try temporaryFolder(self)
        let plain = folder.appendingPathComponent("plain-\(UUID().uuidString.prefix(6))")
        try data.write(to: plain)
        return try gzipOutput(["-c", "-n", level], plain)
    }

    func testISALAndZlibGiveTheSameBytesAndErrors() throws {
        guard IsalDecoder.isAvailable else {
            if ProcessInfo.processInfo.environment["PIPE_REQUIRE_ISAL"] == "1" { XCTFail("ISA-L is not installed (scripts/test installs libisal-dev)") }
            throw XCTSkip("ISA-L is not installed")
        }
        let folder = try temporaryFolder(self)
        // A compressible image-like signal and incompressible noise: stored, fixed and dynamic blocks.
        var state: UInt64 = 7
        let noise = Data((0..<300_000).map { _ -> UInt8 in state = state &* 6364136223846793005 &+ 1442695040888963407; return UInt8(state >> 56) })
        let signal = Data((0..<1_200_000).map { UInt8(truncatingIfNeeded: ($0 / 7) % 251) })
        var files: [(String, Data)] = []
        files.append(("signal", try gzip(signal)))
        files.append(("fast", try gzip(signal + noise, level: "-1")))
        files.append(("best", try gzip(noise + signal, level: "-9")))
        files.append(("multi-member and padding", try gzip(signal.prefix(400_000)) + gzip(noise) + gzip(Data()) + Data(repeating: 0, count: 9)))
        let whole = try gzip(signal)
        var crc = whole; crc[crc.count - 6] ^= 0xFF
        var size = whole; size[size.count - 2] ^= 0x01
        var deflate = whole; deflate[deflate.count / 2] ^= 0x5A
        files.append(("bad CRC", crc))
        files.append(("bad length", size))
        files.append(("bad deflate data", deflate))
        files.append(("truncated", whole.prefix(whole.count / 2)))
        files.append(("trailing garbage", whole + Data("garbage".utf8)))
        files.append(("not gzip", Data("plain text, not gzip".utf8)))
        for (name, bytes) in files {
            let url = folder.appendingPathComponent(name.replacingOccurrences(of: " ", with: "-") + ".gz")
            try bytes.write(to: url)
            let reference = decode(url, isal: false, chunk: 65_536)
            for chunk in [1, 4093, 65_536, 3_000_000] {
                let outcome = decode(url, isal: true, chunk: chunk)
                switch (outcome, reference) {
                case (.bytes(let a), .bytes(let b)):
                    XCTAssertTrue(a == b, "\(name), chunk \(chunk): ISA-L gave \(a.count) bytes, zlib \(b.count)")
                default:
                    XCTAssertEqual(outcome, reference, "\(name), chunk \(chunk)")
                }
            }
        }
        // The expected outcomes, so that both codecs cannot agree on a wrong one.
        XCTAssertEqual(decode(folder.appendingPathComponent("multi-member-and-padding.gz"), isal: true, chunk: 65_536),
                       .bytes(Array(signal.prefix(400_000) + noise)))
        XCTAssertEqual(decode(folder.appendingPathComponent("bad-CRC.gz"), isal: true, chunk: 65_536), .error(.gzipCorrupt))
        XCTAssertEqual(decode(folder.appendingPathComponent("truncated.gz"), isal: true, chunk: 65_536), .error(.truncated))
        XCTAssertEqual(decode(folder.appendingPathComponent("not-gzip.gz"), isal: true, chunk: 65_536), .error(.notGzip))
    }
}
