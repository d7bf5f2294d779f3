import CSHA256
import Foundation
import PipelineEngine
import TestSupport
import XCTest

/// SHA-256 (`CSHA256`): FIPS 180-4's examples, and, on random messages of every length around the
/// block and padding boundaries fed in random pieces, the same digests from the x86 SHA extensions,
/// from the portable code and from Python's hashlib.
final class SHA256Tests: XCTestCase {
    override func tearDown() { pipe_sha256_force_portable(0) }

    private func hex(_ bytes: [UInt8]) -> String { FileSystem.hex(bytes) }

    /// Both paths, or the portable one alone where the CPU has no SHA extensions.
    private func paths() -> [Bool] {
        pipe_sha256_force_portable(0)
        return SHA256.accelerated ? [false, true] : [true]
    }

    func testFIPSExamples() {
        let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        let cases: [([UInt8], String)] = [
            ([], "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            (Array("abc".utf8), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8),
             "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
            (million, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
        ]
        for portable in paths() {
            pipe_sha256_force_portable(portable ? 1 : 0)
            for (message, expected) in cases {
                XCTAssertEqual(hex(SHA256.hash(data: message)), expected, "\(message.count) bytes, portable: \(portable)")
            }
        }
    }

    func testRandomMessagesInRandomPiecesMatchHashlib() throws {
        let python = try crossCheckPython(modules: ["hashlib"])
        var rng = SplitMix64(seed: 0x5348_4132_3536)
        // Every length to 300 (one to four blocks, each padding case), then a few long ones.
        let lengths = Array(0...300) + [1023, 4096, 65_537, 1_000_003]
        let messages = lengths.map { n in (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) } }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-sha256-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("messages.bin")
        try Data(messages.flatMap { $0 }).write(to: file)
        let script = """
            import hashlib, sys
            data = open(sys.argv[1], "rb").read()
            at = 0
            for n in map(int, sys.argv[2].split(",")):
                print(hashlib.sha256(data[at:at + n]).hexdigest())
                at += n
            """
        let run = try runProcess(python, ["-c", script, file.path, lengths.map(String.init).joined(separator: ",")])
        XCTAssertEqual(run.status, 0, run.output)
        let reference = run.output.split(separator: "\n").map(String.init)
        XCTAssertEqual(reference.count, messages.count)

        for portable in paths() {
            pipe_sha256_force_portable(portable ? 1 : 0)
            for (i, message) in messages.enumerated() where i < reference.count {
                XCTAssertEqual(hex(SHA256.hash(data: message)), reference[i], "\(message.count) bytes at once, portable: \(portable)")
                // The same message in random pieces (empty ones included), finalised midway too.
                var hasher = SHA256()
                var at = 0
                while at < message.count {
                    let piece = min(message.count - at, Int.random(in: 0...(message.count < 400 ? 70 : 9000), using: &rng))
                    message.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[at..<(at + piece)])) }
                    at += piece
                    if piece % 7 == 3 { _ = hasher.finalize() }
                }
                XCTAssertEqual(hex(hasher.finalize()), reference[i], "\(message.count) bytes in pieces, portable: \(portable)")
            }
        }
    }

    func testAFileDigestIsTheDigestOfItsBytes() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-sha256-\(UUID().uuidString.prefix(8)).bin")
        defer { try? FileManager.default.removeItem(at: file) }
        var rng = SplitMix64(seed: 7)
        // Larger than the 1 MiB read buffer, and not a multiple of 64.
        let bytes = (0..<((1 << 20) * 2 + 77)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        try Data(bytes).write(to: file)
        XCTAssertEqual(try FileSystem.sha256(ofFile: file.path), hex(SHA256.hash(data: bytes)))
        XCTAssertEqual(try FileSystem.sha256(ofFile: file.path), hex(SHA256.hash(data: Data(bytes))))
    }
}
