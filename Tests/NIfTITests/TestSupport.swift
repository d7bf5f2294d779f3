import Foundation
import XCTest
import TestSupport
@testable import NIfTI

/// A fresh temporary folder, removed when the test ends.
func temporaryFolder(_ test: XCTestCase, function: String = #function) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("pipe-nifti-tests-\(getpid())-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// The package root (three levels above this file).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()


/// Random raw voxel bytes for a datatype; float types get finite values plus NaN and ±inf.
func randomRawBytes(_ datatype: NIfTIDatatype, count: Int, rng: inout SplitMix64) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count * datatype.bytesPerVoxel)
    for i in 0..<count {
        switch datatype {
        case .float32:
            let specials: [Float] = [.nan, .infinity, -.infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
            let v: Float = i < specials.count ? specials[i] : Float.random(in: -1e6...1e6, using: &rng)
            withUnsafeBytes(of: v.bitPattern) { bytes += $0 }
        case .float64:
            let specials: [Double] = [.nan, .infinity, -.infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
            let v: Double = i < specials.count ? specials[i] : Double.random(in: -1e12...1e12, using: &rng)
            withUnsafeBytes(of: v.bitPattern) { bytes += $0 }
        default:
            let word = rng.next()
            withUnsafeBytes(of: word) { bytes += $0.prefix(datatype.bytesPerVoxel) }
        }
    }
    return bytes
}

/// A header for a fresh image of `shape` and `datatype` with a simple oblique-free affine.
func makeHeader(shape: [Int], datatype: NIfTIDatatype, tr: Double? = nil) -> NIfTIHeader {
    var h = NIfTIHeader()
    h.setShape(shape)
    h.datatypeCode = datatype.rawValue
    h.bitpix = Int32(datatype.bitsPerVoxel)
    h.setAffine(Affine(rows: [[-2, 0, 0, 90], [0, 2, 0, -126], [0, 0, 2, -72]]), code: 4)
    h.xyztUnits = 10
    if let tr { h.pixdim[4] = tr }
    h.sclSlope = 1
    return h
}

/// Asserts that `body` throws a `NIfTIError` with `code`, and returns it.
@discardableResult
func assertNIfTIError(
    _ code: NIfTIError.Code, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void
) -> NIfTIError? {
    do {
        try body()
        XCTFail("expected NIfTIError.\(code), but nothing was thrown", file: file, line: line)
    } catch let error as NIfTIError {
        XCTAssertEqual(error.code, code, "wrong error: \(error)", file: file, line: line)
        return error
    } catch {
        XCTFail("expected NIfTIError.\(code), got \(error)", file: file, line: line)
    }
    return nil
}
