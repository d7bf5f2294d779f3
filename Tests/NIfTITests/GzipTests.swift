import Foundation
import XCTest
@testable import NIfTI
import TestSupport

final class GzipTests: XCTestCase {
    private func gzip(_ file: URL, _ args: [String] = ["-c", "-n"]) throws -> Data { try gzipOutput(args, file) }

    private func writeImage(_ folder: URL) throws -> (URL, [Float]) {
        var data = [Float](repeating: 0, count: 16 * 16 * 16 * 8)
        for i in data.indices { data[i] = Float((i * 7919) % 1000) / 10 }
        let url = folder.appendingPathComponent("img.nii")
        let image = NIfTIImage<Float>(shape: [16, 16, 16, 8], affine: .identity, data: data, repetitionTime: 2)
        try NIfTIFile.write(image, to: url.path)
        return (url, data)
    }

    /// Files compressed by the gzip tool (with a name and time stamp in the header) read correctly.
    func testReadsFilesFromSystemGzip() throws {
        let folder = try temporaryFolder(self)
        let (plain, data) = try writeImage(folder)
        let gz = folder.appendingPathComponent("sys.nii.gz")
        try gzip(plain, ["-c", "-9"]).write(to: gz)
        XCTAssertEqual(try NIfTIFile.read(gz.path).data, data)
    }

    /// The length check of `pipe validate`: a single-member file's trailer records its length; a
    /// multi-member file's last trailer records only its member's, and the file read whole is
    /// complete; a file cut in half has a trailer that disagrees, and read whole it fails.
    func testTrailerRecordsTheLengthOrTheFileIsReadWhole() throws {
        let folder = try temporaryFolder(self)
        let (plain, _) = try writeImage(folder)
        let bytes = try Data(contentsOf: plain)
        let single = folder.appendingPathComponent("single.nii.gz")
        try gzip(plain).write(to: single)
        XCTAssertEqual(try NIfTIFile.trailerAgrees(single.path), .agrees)
        XCTAssertNoThrow(try NIfTIFile.checkComplete(single.path))
        XCTAssertEqual(try NIfTIFile.trailerAgrees(plain.path), .agrees, "uncompressed: the size was checked with the header")

        let half = bytes.count / 3
        let a = folder.appendingPathComponent("a"), b = folder.appendingPathComponent("b")
        try bytes.prefix(half).write(to: a)
        try bytes.dropFirst(half).write(to: b)
        let multi = folder.appendingPathComponent("multi.nii.gz")
        try (try gzip(a) + gzip(b)).write(to: multi)
        XCTAssertEqual(try NIfTIFile.trailerAgrees(multi.path),
                       .trailerDiffers(expected: UInt32(bytes.count), found: UInt32(bytes.count - half)))
        XCTAssertNoThrow(try NIfTIFile.checkComplete(multi.path))

        let cut = folder.appendingPathComponent("cut.nii.gz")
        let compressed = try Data(contentsOf: single)
        try compressed.prefix(compressed.count / 2).write(to: cut)
        guard case .trailerDiffers(let expected, _) = try NIfTIFile.trailerAgrees(cut.path) else { return XCTFail("a cut file's trailer agreed") }
        XCTAssertEqual(expected, UInt32(bytes.count))
        XCTAssertThrowsError(try NIfTIFile.checkComplete(cut.path)) { error in
            XCTAssertEqual((error as? NIfTIError)?.code, .truncated, "\(error)")
        }
    }

    /// A multi-member gzip file (concatenated streams) reads as one stream.
    func testMultiMemberGzip() throws {
        let folder = try temporaryFolder(self)
        let (plain, data) = try writeImage(folder)
        let bytes = try Data(contentsOf: plain)
        let half = bytes.count / 3
        let a = folder.appendingPathComponent("a"), b = folder.appendingPathComponent("b")
        try bytes.prefix(half).write(to: a)
        try bytes.dropFirst(half).write(to: b)
        let multi = folder.appendingPathComponent("multi.nii.gz")
        try (try gzip(a) + gzip(b) + Data(repeating: 0, count: 7)).write(to: multi)
        XCTAssertEqual(try NIfTIFile.read(multi.path).data, data)
    }

    func testCorruptCRCIsReported() throws {
        let folder = try temporaryFolder(self)
        let (plain, _) = try writeImage(folder)
        var gz = try gzip(plain)
        gz[gz.count - 6] ^= 0xFF  // inside the CRC-32 trailer
        let url = folder.appendingPathComponent("crc.nii.gz")
        try gz.write(to: url)
        let error = assertNIfTIError(.gzipCorrupt) { _ = try NIfTIFile.read(url.path) }
        XCTAssertTrue(error?.message.contains("incorrect data check") ?? false, "\(String(describing: error))")
    }

    func testWrongLengthTrailerIsReported() throws {
        let folder = try temporaryFolder(self)
        let (plain, _) = try writeImage(folder)
        var gz = try gzip(plain)
        gz[gz.count - 1] ^= 0x01  // inside ISIZE
        let url = folder.appendingPathComponent("len.nii.gz")
        try gz.write(to: url)
        let error = assertNIfTIError(.gzipCorrupt) { _ = try NIfTIFile.read(url.path) }
        XCTAssertTrue(error?.message.contains("incorrect length check") ?? false, "\(String(describing: error))")
    }

    func testTrailingGarbageIsReported() throws {
        let folder = try temporaryFolder(self)
        let (plain, _) = try writeImage(folder)
        let url = folder.appendingPathComponent("garbage.nii.gz")
        try (try gzip(plain) + Data("junk".utf8)).write(to: url)
        assertNIfTIError(.gzipCorrupt) { _ = try NIfTIFile.read(url.path) }
    }

    func testDeflateOutputIsReadableBySystemGzip() throws {
        let folder = try temporaryFolder(self)
        let (plain, _) = try writeImage(folder)
        let image = try NIfTIFile.read(plain.path)
        let ours = folder.appendingPathComponent("ours.nii.gz")
        try NIfTIFile.write(image, to: ours.path)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-t", ours.path]
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "gzip -t rejects pipe's .nii.gz")
        XCTAssertEqual(try gzip(ours, ["-dc"]), try Data(contentsOf: plain))
    }

    /// zlib's run-length strategy (`NIfTIWriteOptions.runLength`, for a scan's seed maps and mean
    /// EPI) gives the same decoded bytes as the file written uncompressed, which system gzip
    /// accepts; on a map that is zero outside an ellipsoid and noise inside it is smaller than
    /// the default strategy, and on a piecewise-constant map (cluster p values) larger.
    func testRunLengthStrategyDecodesIdenticallyAndSuitsNoiseNotPlateaus() throws {
        let folder = try temporaryFolder(self)
        let shape = [40, 48, 40]
        var noise = [Float](repeating: 0, count: shape.reduce(1, *)), plateaus = noise
        var state: UInt64 = 12345
        for z in 0..<shape[2] { for y in 0..<shape[1] { for x in 0..<shape[0] {
            let dx = Double(x - 20) / 17, dy = Double(y - 24) / 21, dz = Double(z - 20) / 17
            guard dx * dx + dy * dy + dz * dz < 1 else { continue }
            let i = x + shape[0] * (y + shape[1] * z)
            state = state &* 6364136223846793005 &+ 1442695040888963407
            noise[i] = Float(Double(state >> 11) / Double(1 << 53) - 0.5)
            plateaus[i] = [0.9, 1.7, 2.3][(x / 8 + y / 8) % 3]
        } } }
        func sizes(_ data: [Float], _ name: String) throws -> (plain: Int, runLength: Int) {
            let image = NIfTIImage<Float>(shape: shape, affine: .identity, data: data)
            let raw = folder.appendingPathComponent("\(name).nii")
            let plain = folder.appendingPathComponent("\(name)-default.nii.gz"), rle = folder.appendingPathComponent("\(name)-rle.nii.gz")
            try NIfTIFile.write(image, to: raw.path)
            try NIfTIFile.write(image, to: plain.path)
            try NIfTIFile.write(image, to: rle.path, options: NIfTIWriteOptions(runLength: true))
            XCTAssertEqual(try gzip(rle, ["-dc"]), try Data(contentsOf: raw), "system gzip decodes the run-length file to the image")
            XCTAssertEqual(try NIfTIFile.read(rle.path).data, data)
            XCTAssertNotEqual(try Data(contentsOf: rle), try Data(contentsOf: plain), "the strategy is applied")
            return (try Data(contentsOf: plain).count, try Data(contentsOf: rle).count)
        }
        let n = try sizes(noise, "noise"), p = try sizes(plateaus, "plateaus")
        XCTAssertLessThan(n.runLength, n.plain, "noise in a mask: \(n)")
        XCTAssertGreaterThan(p.runLength, p.plain, "plateaus: \(p)")
    }
}
