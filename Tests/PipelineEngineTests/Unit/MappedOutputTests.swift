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

    /// A spare file becomes the next large mapped output: the same inode, cut or grown to the
    /// size asked for, and cleared, so it reads as a new file does. A smaller output, or a
    /// context without spares (a task off the run's machine), makes a new file.
    func testALargeMappedOutputReusesASpareClearedAndSized() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spares-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("entry/out"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let spares = SpareFiles(directory: dir.path, minimumBytes: 1 << 20)
        func spare(_ bytes: Int) throws -> UInt64 {
            let path = dir.appendingPathComponent("old-\(bytes)").path
            try Data(repeating: 0xAB, count: bytes).write(to: URL(fileURLWithPath: path))
            chmod(path, 0o444)  // as publishing leaves an output
            XCTAssertTrue(spares.keep(path, limit: 1), "kept")
            return try XCTUnwrap(FileSystem.identity(of: dir.appendingPathComponent(spares.names[0]).path)).inode
        }
        let context = TaskContext(params: .object([:]), scope: .group, inputs: [], sources: [:],
                                  outputDirectory: dir.appendingPathComponent("entry/out"), logFile: nil,
                                  cancellation: CancellationFlag(), spares: spares)
        for (old, new) in [(3 << 20, (2 << 20) + 5), (1 << 20, 3 << 20)] {
            let inode = try spare(old)
            let file = try context.mapOutput("series-\(new).bin", byteCount: new)
            let path = dir.appendingPathComponent("entry/out/series-\(new).bin").path
            XCTAssertEqual(try FileSystem.identity(of: path)?.inode, inode, "the spare became the output")
            XCTAssertEqual(try FileSystem.identity(of: path)?.size, Int64(new))
            var st = stat()
            XCTAssertEqual(stat(path, &st), 0)
            XCTAssertEqual(st.st_mode & 0o777, 0o644, "writable again (the spare was a read-only published output)")
            XCTAssertEqual(spares.names, [], "taken")
            XCTAssertEqual(file.bytes.count, new)
            XCTAssertNil(file.bytes.firstIndex { $0 != 0 }, "a reused output reads as zeros (\(old) -> \(new) bytes)")
            file.bytes[new - 1] = 7
            try context.finishMappedOutput(file, length: new)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), Data(count: new - 1) + [7])
        }
        // Below the minimum size, and without spares: new files; the spare stays.
        let inode = try spare(2 << 20)
        let small = try context.mapOutput("small.bin", byteCount: (1 << 20) - 1)
        try context.finishMappedOutput(small, length: small.bytes.count)
        let plain = TaskContext(params: .object([:]), scope: .group, inputs: [], sources: [:],
                                outputDirectory: dir.appendingPathComponent("entry/out"), logFile: nil, cancellation: CancellationFlag())
        let other = try plain.mapOutput("other.bin", byteCount: 2 << 20)
        try plain.finishMappedOutput(other, length: other.bytes.count)
        for name in ["small.bin", "other.bin"] {
            XCTAssertNotEqual(try FileSystem.identity(of: dir.appendingPathComponent("entry/out/\(name)").path)?.inode, inode, name)
        }
        XCTAssertEqual(spares.names.count, 1)
        spares.removeAll()
        XCTAssertEqual(spares.names, [])
    }

    /// Spares are kept up to the limit and from the minimum size; others are left to be deleted.
    /// A file whose pages left memory is not resident, so its old contents would be read back.
    func testSparesAreKeptUpToTheLimitAndTheirResidenceIsKnown() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spares-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let spares = SpareFiles(directory: dir.path, minimumBytes: 1 << 20)
        var kept: [Bool] = []
        for (i, size) in [1 << 20, (1 << 20) - 1, 2 << 20, 1 << 20].enumerated() {
            let path = dir.appendingPathComponent("f\(i)").path
            try Data(count: size).write(to: URL(fileURLWithPath: path))
            kept.append(spares.keep(path, limit: 2))
        }
        XCTAssertEqual(kept, [true, false, true, false], "too small, then over the limit")
        XCTAssertEqual(spares.names.count, 2)
        XCTAssertEqual(spares.keep(dir.appendingPathComponent("missing").path, limit: 5), false)

        let path = dir.appendingPathComponent("resident.bin").path
        try Data(repeating: 1, count: 4 << 20).write(to: URL(fileURLWithPath: path))
        let fd = open(path, O_RDONLY)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        XCTAssertTrue(SpareFiles.resident(fd, bytes: 4 << 20), "just written: in memory")
        #if os(Linux)
        // Written back and evicted (clean pages go with POSIX_FADV_DONTNEED).
        XCTAssertEqual(fsync(fd), 0)
        XCTAssertEqual(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0)
        XCTAssertFalse(SpareFiles.resident(fd, bytes: 4 << 20), "evicted: not in memory")
        #endif
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
