import XCTest
@testable import PipelineEngine
#if canImport(Glibc)
import Glibc
private let RLIMIT_FSIZE_VALUE = __rlimit_resource_t(RLIMIT_FSIZE.rawValue)
#else
import Darwin
private let RLIMIT_FSIZE_VALUE = RLIMIT_FSIZE
#endif

/// Outputs filled in place through a mapping: the file holds exactly what was written, cut to the
/// length given; the digest the context records is the file's SHA-256 and is trusted only while
/// the file is unchanged; a reading mapping sees the bytes and never writes to the file.
final class MappedOutputTests: XCTestCase {
    private func makeContext() throws -> (TaskContext, URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mapped-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let context = TaskContext(params: .object([:]), scope: .group, inputs: [], sources: [:], outputDirectory: dir,
                                  logFile: nil, cancellation: CancellationFlag())
        return (context, dir)
    }

    func testMappedOutputIsCutToLengthAndItsDigestIsTheFilesSHA256() throws {
        let (context, dir) = try makeContext()
        defer { try? FileManager.default.removeItem(at: dir) }
        let count = 3 << 20
        let file = try context.mapOutput("series.bin", byteCount: count)
        XCTAssertEqual(file.bytes.count, count)
        // A fresh mapped output reads as zeros, and the memory is the file.
        XCTAssertTrue(file.bytes.allSatisfy { $0 == 0 })
        for i in 0..<count { file.bytes[i] = UInt8(truncatingIfNeeded: i &* 31 &+ 7) }
        let length = count - 12_345
        try context.finishMappedOutput(file, length: length)
        XCTAssertEqual(file.bytes.count, length, "the mapping's view is cut with the file")

        let path = dir.appendingPathComponent("series.bin").path
        let onDisk = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertEqual(onDisk.count, length)
        XCTAssertEqual(onDisk[onDisk.startIndex + 1000], UInt8(truncatingIfNeeded: 1000 &* 31 &+ 7))
        let recorded = try XCTUnwrap(context.outputDigests["series.bin"])
        XCTAssertEqual(recorded.sha256, try FileSystem.sha256(ofFile: path))
        XCTAssertTrue(recorded.identity.sameContent(as: try FileSystem.identity(of: path)))
        // Changed afterwards (another size): the recorded digest no longer describes the file.
        try Data(count: 10).write(to: URL(fileURLWithPath: path))
        XCTAssertFalse(recorded.identity.sameContent(as: try FileSystem.identity(of: path)))
    }

    func testEmptyMappedOutputAndOutputNamesAreChecked() throws {
        let (context, dir) = try makeContext()
        defer { try? FileManager.default.removeItem(at: dir) }
        let empty = try context.mapOutput("empty.bin", byteCount: 0)
        XCTAssertEqual(empty.bytes.count, 0)
        try context.finishMappedOutput(empty, length: 0)
        XCTAssertEqual(try FileSystem.identity(of: dir.appendingPathComponent("empty.bin").path)?.size, 0)
        XCTAssertEqual(context.outputDigests["empty.bin"]?.sha256, try FileSystem.sha256(ofFile: dir.appendingPathComponent("empty.bin").path))
        XCTAssertThrowsError(try context.mapOutput("../escape.bin", byteCount: 8))
    }

    /// No room for the output (here a file-size limit; a full disk fails the same call): an error
    /// naming the file when it is created, not a crash when a page is written later.
    func testNoRoomForAMappedOutputIsAnErrorNamingIt() throws {
        let (context, dir) = try makeContext()
        defer { try? FileManager.default.removeItem(at: dir) }
        var saved = rlimit()
        XCTAssertEqual(getrlimit(RLIMIT_FSIZE_VALUE, &saved), 0)
        let previousHandler = signal(SIGXFSZ, SIG_IGN)
        var limited = saved
        limited.rlim_cur = 1 << 20
        XCTAssertEqual(setrlimit(RLIMIT_FSIZE_VALUE, &limited), 0)
        defer {
            setrlimit(RLIMIT_FSIZE_VALUE, &saved)
            signal(SIGXFSZ, previousHandler)
        }
        XCTAssertThrowsError(try context.mapOutput("too-big.bin", byteCount: 8 << 20)) { error in
            XCTAssertTrue("\(error)".contains("too-big.bin"), "\(error)")
        }
        XCTAssertNil(try FileSystem.identity(of: dir.appendingPathComponent("too-big.bin").path), "the failed output is removed")
    }

    func testReadingMappingSeesTheBytesAndLeavesTheFileAlone() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mapped-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("input.bin").path
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let digest = try FileSystem.sha256(ofFile: path)
        do {
            let mapped = try MappedFile(readingFrom: path)
            XCTAssertEqual(Array(mapped.bytes), bytes)
            mapped.bytes[0] = 255  // a private copy of the page
            XCTAssertEqual(mapped.bytes[0], 255)
        }
        XCTAssertEqual(try FileSystem.sha256(ofFile: path), digest)
        XCTAssertThrowsError(try MappedFile(readingFrom: dir.appendingPathComponent("missing.bin").path)) {
            XCTAssertTrue("\($0)".contains("missing.bin"), "\($0)")
        }
    }
}
