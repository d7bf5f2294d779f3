import Foundation
import TestSupport
import XCTest
@testable import NIfTI

/// Deliberately broken files, generated here: each gives its own specific error, never a crash or
/// an allocation the file cannot justify.
final class BrokenFileTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = try temporaryFolder(self)
    }

    /// A valid little-endian file's bytes (NIfTI-1 unless asked), 4x4x4 uint8.
    private func validBytes(version: NIfTIHeader.Version = .nifti1, extensions: [NIfTIExtension] = []) throws -> Data {
        let url = folder.appendingPathComponent("valid-\(UUID().uuidString).nii")
        try NIfTIFile.writeRaw(header: makeHeader(shape: [4, 4, 4], datatype: .uint8), extensions: extensions,
                               bytes: [UInt8](repeating: 9, count: 64), to: url.path,
                               options: NIfTIWriteOptions(version: version))
        return try Data(contentsOf: url)
    }

    private func save(_ data: Data, _ name: String, gzip: Bool = false) throws -> String {
        let url = folder.appendingPathComponent(name)
        if gzip {
            let plain = folder.appendingPathComponent(name + ".plain")
            try data.write(to: plain)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/gzip")
            process.arguments = ["-c", "-n", plain.path]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let out = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            try out.write(to: url)
        } else {
            try data.write(to: url)
        }
        return url.path
    }

    private func patch<T: FixedWidthInteger>(_ data: inout Data, _ offset: Int, _ value: T) {
        withUnsafeBytes(of: value.littleEndian) { raw in
            for (i, b) in raw.enumerated() { data[offset + i] = b }
        }
    }

    private func patchFloat(_ data: inout Data, _ offset: Int, _ value: Float) { patch(&data, offset, value.bitPattern) }

    /// Reads the file fully and expects `code`; also checks the message names the file.
    @discardableResult
    private func expect(_ code: NIfTIError.Code, _ path: String, field: String? = nil, line: UInt = #line) -> NIfTIError? {
        let error = assertNIfTIError(code, line: line) { _ = try NIfTIFile.read(path) }
        if let error {
            XCTAssertTrue(error.description.contains(path), "message must name the file: \(error)", line: line)
            if let field { XCTAssertEqual(error.field, field, "\(error)", line: line) }
        }
        return error
    }

    func testEmptyFile() throws { expect(.truncated, try save(Data(), "empty.nii")) }

    func testFileShorterThanHeader() throws {
        expect(.truncated, try save(try validBytes().prefix(200), "short.nii"))
    }

    func testNIfTI2HeaderCutShort() throws {
        expect(.truncated, try save(try validBytes(version: .nifti2).prefix(400), "short2.nii"))
    }

    func testTruncatedVoxelData() throws {
        let error = expect(.dataExceedsFile, try save(try validBytes().dropLast(10), "cut.nii"))
        XCTAssertTrue(error?.message.contains("4x4x4") ?? false, "\(String(describing: error))")
    }

    func testTruncatedGzip() throws {
        let path = try save(try validBytes(), "full.nii.gz", gzip: true)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        expect(.truncated, try save(data.prefix(data.count - 12), "cut.nii.gz"))
    }

    func testBadGzipCRC() throws {
        let path = try save(try validBytes(), "crc.nii.gz", gzip: true)
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        data[data.count - 8] ^= 0x55
        expect(.gzipCorrupt, try save(data, "crc2.nii.gz"))
    }

    /// Corruption in the middle of a long deflate stream: bad codes or a CRC mismatch, never
    /// silently wrong voxels.
    func testCorruptDeflateData() throws {
        var rng = SplitMix64(seed: 5)
        let url = folder.appendingPathComponent("random.nii")
        try NIfTIFile.writeRaw(header: makeHeader(shape: [32, 32, 32], datatype: .uint8),
                               bytes: (0..<32768).map { _ in UInt8.random(in: 0...40, using: &rng) }, to: url.path)
        let path = try save(try Data(contentsOf: url), "bad.nii.gz", gzip: true)
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        for i in (data.count / 2)..<(data.count / 2 + 16) { data[i] ^= 0xA5 }
        expect(.gzipCorrupt, try save(data, "bad2.nii.gz"))
    }

    func testNotGzipAlthoughNamedGz() throws {
        expect(.notGzip, try save(try validBytes(), "plain.nii.gz"))
        // An empty file (a copy that did not finish) says so, not that it may be uncompressed.
        let empty = expect(.notGzip, try save(Data(), "empty.nii.gz"))
        XCTAssertTrue(empty?.description.contains("the file is empty (0 bytes)") == true, "\(String(describing: empty))")
    }

    func testWrongMagic() throws {
        var data = try validBytes()
        data[344] = UInt8(ascii: "x")
        expect(.badMagic, try save(data, "magic.nii"), field: "magic")
    }

    func testPairMagicInSingleFile() throws {
        var data = try validBytes()
        data[345] = UInt8(ascii: "i")
        expect(.badMagic, try save(data, "pairmagic.nii"), field: "magic")
    }

    func testWrongSizeofHdr() throws {
        var data = try validBytes()
        patch(&data, 0, Int32(349))
        expect(.badHeaderSize, try save(data, "sizeof.nii"), field: "sizeof_hdr")
    }

    func testUndecidableByteOrder() throws {
        var data = try validBytes()
        patch(&data, 40, Int16(3).byteSwapped)  // dim[0] valid only big-endian, sizeof_hdr little-endian
        expect(.undecidableByteOrder, try save(data, "order.nii"), field: "dim[0]")
    }

    func testDimCountZero() throws {
        var data = try validBytes()
        patch(&data, 40, Int16(0))
        expect(.badDimensionCount, try save(data, "dim0.nii"), field: "dim[0]")
    }

    func testDimCountEight() throws {
        var data = try validBytes()
        patch(&data, 40, Int16(8))
        expect(.badDimensionCount, try save(data, "dim8.nii"), field: "dim[0]")
    }

    func testZeroDimension() throws {
        var data = try validBytes()
        patch(&data, 44, Int16(0))
        expect(.badDimension, try save(data, "zero.nii"), field: "dim[2]")
    }

    func testNegativeDimension() throws {
        var data = try validBytes()
        patch(&data, 42, Int16(-4))
        expect(.badDimension, try save(data, "neg.nii"), field: "dim[1]")
    }

    func testDimensionProductOverflows() throws {
        var data = try validBytes(version: .nifti2)
        patch(&data, 16, Int64(4))
        patch(&data, 24, Int64(1) << 40)
        patch(&data, 32, Int64(1) << 40)
        expect(.sizeOverflow, try save(data, "overflow.nii"))
    }

    func testDimensionsExceedFile() throws {
        var data = try validBytes()
        patch(&data, 42, Int16(1000))
        patch(&data, 44, Int16(1000))
        expect(.dataExceedsFile, try save(data, "big.nii"), field: "dim")
    }

    /// A small .nii.gz whose header claims ~32 GB is refused before any allocation.
    func testLyingHeaderInGzipIsRefusedWithoutAllocation() throws {
        var data = try validBytes(version: .nifti2)
        patch(&data, 16, Int64(4))
        for axis in 0..<4 { patch(&data, 24 + 8 * axis, Int64(400)) }
        patch(&data, 12, Int16(16))  // float32
        patch(&data, 14, Int16(32))
        let error = expect(.dataExceedsFile, try save(data, "liar.nii.gz", gzip: true))
        XCTAssertTrue(error?.message.contains("gzip file of") ?? false)
    }

    func testUnknownDatatype() throws {
        var data = try validBytes()
        patch(&data, 70, Int16(99))
        expect(.unknownDatatype, try save(data, "dtype.nii"), field: "datatype")
    }

    func testUnsupportedComplexDatatype() throws {
        var data = try validBytes()
        patch(&data, 70, Int16(32))
        patch(&data, 72, Int16(64))
        expect(.unsupportedDatatype, try save(data, "complex.nii"), field: "datatype")
    }

    func testVoxOffsetBeyondFile() throws {
        var data = try validBytes()
        patchFloat(&data, 108, 1_000_000)
        expect(.badVoxOffset, try save(data, "voxoff.nii"), field: "vox_offset")
    }

    func testVoxOffsetInsideHeader() throws {
        var data = try validBytes()
        patchFloat(&data, 108, 100)
        expect(.badVoxOffset, try save(data, "voxlow.nii"), field: "vox_offset")
    }

    func testCIFTIIsNotAVolume() throws {
        var data = try validBytes()
        patch(&data, 68, Int16(3006))
        let error = expect(.notAVolume, try save(data, "cifti.nii"), field: "intent_code")
        XCTAssertTrue(error?.message.contains("CIFTI") ?? false)
    }

    func testExtensionSizeTooSmall() throws {
        var data = try validBytes(extensions: [NIfTIExtension(code: 6, content: [UInt8](repeating: 1, count: 8))])
        patch(&data, 352, Int32(3))
        expect(.badExtension, try save(data, "esize.nii"))
    }

    func testExtensionRunsPastVoxOffset() throws {
        var data = try validBytes(extensions: [NIfTIExtension(code: 6, content: [UInt8](repeating: 1, count: 8))])
        patch(&data, 352, Int32(4096))
        expect(.badExtension, try save(data, "eover.nii"))
    }

    func testNonFiniteInterceptWithValidSlope() throws {
        var data = try validBytes()
        patchFloat(&data, 112, 2)
        patchFloat(&data, 116, .infinity)
        expect(.badScaling, try save(data, "inter.nii"), field: "scl_inter")
    }

    func testHeaderWithoutImageFile() throws {
        let url = folder.appendingPathComponent("lonely.hdr")
        var data = try validBytes().prefix(348)
        data[345] = UInt8(ascii: "i")
        patchFloat(&data, 108, 0)
        try data.write(to: url)
        let error = assertNIfTIError(.io) { _ = try NIfTIFile.read(url.path) }
        XCTAssertTrue(error?.description.contains("lonely.img") ?? false, "\(String(describing: error))")
    }

    func testMissingFile() throws {
        assertNIfTIError(.io) { _ = try NIfTIFile.read(self.folder.appendingPathComponent("nope.nii").path) }
    }

    /// Random corruption of a valid header never crashes: every outcome is an image or a NIfTIError.
    func testRandomHeaderCorruptionNeverCrashes() throws {
        let valid = try validBytes(extensions: [NIfTIExtension(code: 6, content: [UInt8](repeating: 1, count: 24))])
        var rng = SplitMix64(seed: 2024)
        let path = folder.appendingPathComponent("fuzz.nii").path
        var errors = 0
        for _ in 0..<400 {
            var data = valid
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                data[Int.random(in: 0..<400, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            try data.write(to: URL(fileURLWithPath: path))
            do { _ = try NIfTIFile.read(path) } catch is NIfTIError { errors += 1 }
        }
        XCTAssertGreaterThan(errors, 0)
    }
}
