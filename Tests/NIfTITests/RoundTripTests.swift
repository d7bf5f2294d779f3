import Foundation
import TestSupport
import XCTest
@testable import NIfTI

final class RoundTripTests: XCTestCase {
    /// Every datatype x byte order x .nii/.nii.gz x NIfTI-1/2: raw bytes come back bit for bit,
    /// with the header's shape, datatype, affine and TR.
    func testRawRoundTripIsBitExactForEveryCombination() throws {
        let folder = try temporaryFolder(self)
        var rng = SplitMix64(seed: 42)
        let shape = [7, 5, 3, 4]
        var combinations = 0
        for datatype in NIfTIDatatype.supported {
            for order in [ByteOrder.little, .big] {
                for suffix in [".nii", ".nii.gz"] {
                    for version in [NIfTIHeader.Version.nifti1, .nifti2] {
                        let path = folder.appendingPathComponent("rt_\(datatype)_\(order)_v\(version.rawValue)\(suffix)").path
                        let raw = randomRawBytes(datatype, count: shape.reduce(1, *), rng: &rng)
                        let header = makeHeader(shape: shape, datatype: datatype, tr: 2.5)
                        try NIfTIFile.writeRaw(header: header, bytes: raw, to: path,
                                               options: NIfTIWriteOptions(byteOrder: order, version: version))
                        let (info, back) = try NIfTIFile.readRaw(path)
                        XCTAssertEqual(back, raw, "\(path): voxel bytes differ")
                        XCTAssertEqual(info.byteOrder, order, path)
                        XCTAssertEqual(info.header.version, version, path)
                        XCTAssertEqual(info.header.datatype, datatype, path)
                        XCTAssertEqual(info.header.shape, shape, path)
                        XCTAssertEqual(info.isCompressed, suffix == ".nii.gz", path)
                        XCTAssertEqual(info.header.repetitionTime, 2.5, path)
                        XCTAssertTrue(info.header.affine.isClose(to: header.affine, tolerance: 0), path)
                        combinations += 1
                    }
                }
            }
        }
        XCTAssertEqual(combinations, 10 * 2 * 2 * 2)
    }

    /// Reading into Float and Double applies scl_slope/scl_inter, computed in Double.
    func testScaledReadMatchesIndependentComputation() throws {
        let folder = try temporaryFolder(self)
        var header = makeHeader(shape: [4, 3, 2], datatype: .int16)
        header.sclSlope = 0.25
        header.sclInter = -100
        let values: [Int16] = (0..<24).map { Int16($0 * 1000 - 12000) }
        let raw = values.withUnsafeBytes { Array($0) }
        for order in [ByteOrder.little, .big] {
            let path = folder.appendingPathComponent("scaled_\(order).nii.gz").path
            try NIfTIFile.writeRaw(header: header, bytes: raw, to: path, options: NIfTIWriteOptions(byteOrder: order))
            let doubles = try NIfTIFile.read(path, as: Double.self)
            let floats = try NIfTIFile.read(path, as: Float.self)
            XCTAssertEqual(doubles.data, values.map { Double($0) * 0.25 - 100 })
            XCTAssertEqual(floats.data, values.map { Float(Double($0) * 0.25 - 100) })
        }
    }

    /// A reader may skip looking for NaN and infinity only when no stored value can decode to one:
    /// integers whose scaled range fits float32 (the usual int16 BOLD), not floats, and not
    /// integers whose slope can overflow float32, which this file does.
    func testOnlyIntegersScaledWithinRangeDecodeToFiniteValuesAlone() throws {
        let folder = try temporaryFolder(self)
        func reader(_ datatype: NIfTIDatatype, slope: Double, _ raw: [UInt8]) throws -> NIfTIVolumeReader<Float> {
            var header = makeHeader(shape: [2, 1, 1, 1], datatype: datatype)
            header.sclSlope = slope
            let path = folder.appendingPathComponent("\(datatype)-\(slope).nii.gz").path
            try NIfTIFile.writeRaw(header: header, bytes: raw, to: path)
            return try NIfTIVolumeReader<Float>(path: path)
        }
        let int16 = [Int16.min, .max].withUnsafeBytes { Array($0) }
        XCTAssertTrue(try reader(.int16, slope: 1, int16).decodesOnlyFiniteValues)
        XCTAssertTrue(try reader(.int16, slope: 1e30, int16).decodesOnlyFiniteValues)
        XCTAssertTrue(try reader(.uint8, slope: .nan, [0, 255]).decodesOnlyFiniteValues, "a NaN slope is no scaling")
        XCTAssertFalse(try reader(.float32, slope: 1, [Float.nan, 1].withUnsafeBytes { Array($0) }).decodesOnlyFiniteValues)
        let overflowing = try reader(.int32, slope: 1e30, [Int32.max, 1].withUnsafeBytes { Array($0) })
        XCTAssertFalse(overflowing.decodesOnlyFiniteValues)
        var volume = [Float](repeating: 0, count: 2)
        try volume.withUnsafeMutableBufferPointer { try overflowing.read(into: $0.baseAddress!) }
        XCTAssertEqual(volume[0], .infinity, "int32 max x 1e30 is past float32's range")
    }

    /// Slope 0 and a NaN slope both mean "no scaling" (the NIfTI standard and nibabel).
    func testZeroOrNaNSlopeMeansNoScaling() throws {
        let folder = try temporaryFolder(self)
        for slope in [0.0, .nan] {
            var header = makeHeader(shape: [2, 2, 2], datatype: .uint8)
            header.sclSlope = slope
            header.sclInter = 7
            let path = folder.appendingPathComponent("slope.nii").path
            try NIfTIFile.writeRaw(header: header, bytes: Array(0..<8), to: path)
            XCTAssertEqual(try NIfTIFile.read(path).data, (0..<8).map { Float($0) })
        }
    }

    /// Float data written as float32 reads back identically, NaN and infinities included.
    func testFloatImageRoundTrip() throws {
        let folder = try temporaryFolder(self)
        var rng = SplitMix64(seed: 7)
        var data = (0..<(6 * 5 * 4 * 3)).map { _ in Float.random(in: -5...5, using: &rng) }
        data[0] = .nan
        data[1] = .infinity
        data[2] = -.infinity
        let affine = Affine(rows: [[-3, 0, 0, 100], [0, 3, 0, -120], [0, 0, 3.5, -60]])
        let image = NIfTIImage(shape: [6, 5, 4, 3], affine: affine, data: data, repetitionTime: 0.8)
        for name in ["f.nii", "f.nii.gz"] {
            let path = folder.appendingPathComponent(name).path
            try NIfTIFile.write(image, to: path)
            let back = try NIfTIFile.read(path)
            XCTAssertEqual(back.data.map(\.bitPattern), data.map(\.bitPattern))
            XCTAssertTrue(back.affine.isClose(to: affine, tolerance: 1e-12))
            XCTAssertTrue(back.header.qformAffine.isClose(to: affine, tolerance: 1e-5), "qform must hold the affine too")
            XCTAssertEqual(back.repetitionTime ?? 0, 0.8, accuracy: 1e-7)
            XCTAssertEqual(back.header.orientation, "LAS")
        }
    }

    /// Writing float data as int16 chooses a slope/intercept; values come back within half a step.
    func testIntegerWriteWithAutomaticScaling() throws {
        let folder = try temporaryFolder(self)
        let data: [Float] = (0..<60).map { Float($0) * 0.37 - 11.1 }
        let image = NIfTIImage(shape: [5, 4, 3], affine: .identity, data: data)
        let path = folder.appendingPathComponent("i16.nii.gz").path
        try NIfTIFile.write(image, to: path, options: NIfTIWriteOptions(datatype: .int16))
        let back = try NIfTIFile.read(path, as: Double.self)
        XCTAssertEqual(back.header.datatype, .int16)
        let slope = back.header.sclSlope
        XCTAssertGreaterThan(slope, 0)
        for (a, b) in zip(back.data, data) { XCTAssertEqual(a, Double(b), accuracy: slope * 0.5 + 1e-9) }
        // Integral data in range is stored without scaling.
        let integral = NIfTIImage(shape: [3], affine: .identity, data: [Float(-3), 0, 250])
        try NIfTIFile.write(integral, to: path, options: NIfTIWriteOptions(datatype: .int16))
        let exact = try NIfTIFile.read(path)
        XCTAssertNil(exact.header.scaling)
        XCTAssertEqual(exact.data, [-3, 0, 250])
    }

    /// The same image written twice gives byte-identical files (no time stamps in gzip).
    func testWritingIsDeterministic() throws {
        let folder = try temporaryFolder(self)
        let image = NIfTIImage(shape: [4, 4, 4], affine: .identity, data: (0..<64).map { Float($0) })
        let a = folder.appendingPathComponent("a.nii.gz").path, b = folder.appendingPathComponent("b.nii.gz").path
        try NIfTIFile.write(image, to: a)
        try NIfTIFile.write(image, to: b)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: a)), try Data(contentsOf: URL(fileURLWithPath: b)))
    }

    /// Extensions are listed and survive a write/read cycle; vox_offset accounts for them.
    func testExtensionsRoundTrip() throws {
        let folder = try temporaryFolder(self)
        let ext = [NIfTIExtension(code: 6, content: Array("a comment".utf8) + [UInt8](repeating: 0, count: 15)),
                   NIfTIExtension(code: 4, content: [UInt8](repeating: 65, count: 40))]
        let header = makeHeader(shape: [2, 2, 2], datatype: .uint8)
        for version in [NIfTIHeader.Version.nifti1, .nifti2] {
            let path = folder.appendingPathComponent("ext\(version.rawValue).nii.gz").path
            try NIfTIFile.writeRaw(header: header, extensions: ext, bytes: Array(0..<8), to: path,
                                   options: NIfTIWriteOptions(version: version))
            let (info, bytes) = try NIfTIFile.readRaw(path)
            XCTAssertEqual(info.extensions, ext)
            XCTAssertEqual(bytes, Array(0..<8))
            XCTAssertEqual(Int(info.header.voxOffset), NIfTIHeader.headerSize(version) + 4 + 32 + 48)
        }
    }

    /// A shape beyond NIfTI-1's 16-bit dims is refused for NIfTI-1 and written as NIfTI-2.
    func testLargeDimensionNeedsNIfTI2() throws {
        let folder = try temporaryFolder(self)
        let header = makeHeader(shape: [40000, 1, 1], datatype: .uint8)
        let bytes = [UInt8](repeating: 3, count: 40000)
        let path = folder.appendingPathComponent("wide.nii").path
        let error = assertNIfTIError(.unrepresentable) { try NIfTIFile.writeRaw(header: header, bytes: bytes, to: path) }
        XCTAssertEqual(error?.field, "dim")
        try NIfTIFile.writeRaw(header: header, bytes: bytes, to: path, options: NIfTIWriteOptions(version: .nifti2))
        XCTAssertEqual(try NIfTIFile.readRaw(path).bytes, bytes)
    }
}
