import Figures
import Foundation
import TestSupport
import XCTest

/// The PNG encoder against an independent decoder (Pillow), its CRCs against the standard's check
/// value, and the colour maps against matplotlib and nilearn.
final class PNGTests: XCTestCase {
    private func temporary() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-png-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testCRCMatchesTheStandardCheckValue() {
        // CRC-32 of "123456789" is 0xCBF43926 (the ISO 3309 / PNG check value).
        XCTAssertEqual(PNG.crc(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(PNG.crc(Array("6789".utf8), continuing: PNG.crc(Array("12345".utf8))), 0xCBF4_3926)
    }

    func testEveryChunkCarriesItsCRCAndTheLayoutIsPNG() throws {
        let png = try PNG.encode(width: 3, height: 2, pixels: .rgb, data: (0..<18).map { UInt8($0 * 13) })
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var offset = 8, types: [String] = []
        while offset < png.count {
            let length = png[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            let type = Array(png[offset + 4..<offset + 8]), payload = Array(png[offset + 8..<offset + 8 + length])
            let stored = png[offset + 8 + length..<offset + 12 + length].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            XCTAssertEqual(stored, PNG.crc(payload, continuing: PNG.crc(type)), String(decoding: type, as: UTF8.self))
            types.append(String(decoding: type, as: UTF8.self))
            offset += 12 + length
        }
        XCTAssertEqual(types, ["IHDR", "IDAT", "IEND"])
        XCTAssertEqual(offset, png.count)
        XCTAssertThrowsError(try PNG.encode(width: 3, height: 2, pixels: .rgb, data: [1, 2, 3]))
        XCTAssertThrowsError(try PNG.encode(width: 0, height: 2, pixels: .rgb, data: []))
    }

    /// Random RGB and RGBA images of odd sizes decode in Pillow to exactly the pixels given.
    func testPillowDecodesExactlyThePixels() throws {
        let python = try crossCheckPython(modules: ["PIL"])
        let folder = try temporary()
        var generator = SplitMix64(seed: 7)
        var expected: [(String, [UInt8])] = []
        for (i, (w, h, kind)) in [(1, 1, PNG.Pixels.rgb), (17, 5, .rgb), (64, 33, .rgba), (301, 7, .rgb)].enumerated() {
            let data = (0..<(w * h * (kind == .rgb ? 3 : 4))).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let path = folder.appendingPathComponent("\(i).png").path
            try Data(PNG.encode(width: w, height: h, pixels: kind, data: data)).write(to: URL(fileURLWithPath: path))
            expected.append((path, data))
        }
        let script = """
            import sys, hashlib
            from PIL import Image
            for path in sys.argv[1:]:
                im = Image.open(path)
                im.load()
                print(im.mode, im.size[0], im.size[1], hashlib.sha256(im.tobytes()).hexdigest())
            """
        let result = try runProcess(python, ["-c", script] + expected.map(\.0))
        XCTAssertEqual(result.status, 0, result.output)
        let lines = result.output.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, expected.count, result.output)
        for (line, (path, data)) in zip(lines, expected) {
            let digest = try runProcess("/usr/bin/sha256sum", [try writeBytes(data, folder)]).output.prefix(64)
            XCTAssertTrue(line.hasSuffix(String(digest)), "\(path): \(line)")
        }
    }

    private func writeBytes(_ data: [UInt8], _ folder: URL) throws -> String {
        let url = folder.appendingPathComponent(UUID().uuidString)
        try Data(data).write(to: url)
        return url.path
    }

    /// Every entry of cold_hot, hot and gray equals matplotlib's 8-bit lookup table (nilearn's
    /// cold_hot for the first).
    func testColourMapsMatchMatplotlibAndNilearn() throws {
        let python = try crossCheckPython(modules: ["matplotlib", "nilearn"])
        let script = """
            import matplotlib
            matplotlib.use("Agg")
            import numpy as np
            from matplotlib import colormaps
            from nilearn.plotting import cm
            x = np.arange(256) / 255.0
            for cmap in (cm.cold_hot, colormaps["hot"], colormaps["gray"]):
                rgba = cmap(x, bytes=True)
                print(" ".join("%d,%d,%d" % tuple(c[:3]) for c in rgba))
            """
        let result = try runProcess(python, ["-c", script])
        XCTAssertEqual(result.status, 0, result.output)
        let lines = result.output.split(separator: "\n").suffix(3).map(String.init)
        for (map, line) in zip([ColorMap.coldHot, .hot, .gray], lines) {
            let reference = line.split(separator: " ").map(String.init)
            XCTAssertEqual(reference.count, 256)
            for (i, ref) in reference.enumerated() {
                let (r, g, b) = map.rgb(Double(i) / 255)
                XCTAssertEqual("\(r),\(g),\(b)", ref, "\(map.name) at \(i)/255")
            }
        }
    }
}
