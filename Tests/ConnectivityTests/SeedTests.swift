import Foundation
import NIfTI
import XCTest
@testable import Connectivity

final class SeedTests: XCTestCase {
    private var folder: URL!
    private let affine = Affine(rows: [[-4, 0, 0, 20], [0, 4, 0, -20], [0, 0, 4, -10]])

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-seeds-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { [folder] in try? FileManager.default.removeItem(at: folder!) }
    }

    /// A 10x10x10 scan whose mask is the lower half in x (i < 5).
    private func scan() -> LoadedScan {
        let voxels = (0..<1000).filter { $0 % 10 < 5 }
        return LoadedScan(gridShape: [10, 10, 10], affine: affine, repetitionTime: 2, volumes: 3, voxels: voxels,
                          series: SeriesBuffer(zeros: 3 * voxels.count), confounds: nil, nonFiniteVoxels: 0)
    }

    /// The atlas with its label table written with `newline` line ends, after `prefix` bytes.
    private func atlas(header: Bool, newline: String = "\n", prefix: [UInt8] = []) throws -> AtlasLabels {
        var labels = [Float](repeating: 0, count: 1000)
        for v in 0..<1000 where v % 10 < 2 { labels[v] = 3 }   // inside the mask
        for v in 0..<1000 where v % 10 > 7 { labels[v] = 7 }   // outside the mask
        let image = folder.appendingPathComponent("atlas.nii.gz").path
        try NIfTIFile.write(NIfTIImage(shape: [10, 10, 10], affine: affine, data: labels), to: image, options: NIfTIWriteOptions(datatype: .uint8))
        let table = folder.appendingPathComponent("atlas.tsv").path
        let text = (header ? "index\tname\n3\tLBA_left\n7\tMTG_right\n" : "3 LBA_left\n7 MTG_right\n").replacingOccurrences(of: "\n", with: newline)
        try Data(prefix + Array(text.utf8)).write(to: URL(fileURLWithPath: table))
        return try AtlasLabels.read(image: image, table: table)
    }

    func testAtlasLabelsByNameAndValue() throws {
        for header in [true, false] {
            let atlas = try atlas(header: header)
            XCTAssertEqual(atlas.names, [3: "LBA_left", 7: "MTG_right"])
            let seed = SeedDefinition(name: "LBA", source: .atlasLabel("LBA_left"))
            let positions = try seed.voxelPositions(in: scan(), atlas: atlas, scanName: "sub-01")
            XCTAssertEqual(positions.count, 200)
            XCTAssertEqual(try SeedDefinition(name: "x", source: .atlasLabel("3")).voxelPositions(in: scan(), atlas: atlas, scanName: "s"), positions)
        }
    }

    func testDistinctLabelsAreTheSortedSetOfLabels() throws {
        XCTAssertEqual(try atlas(header: true).distinctLabels, [0, 3, 7])
        var generator = SystemRandomNumberGenerator()
        for top in [1, 40, (1 << 22) - 1, 1 << 22, Int(Int32.max)] {
            let labels = (0..<5000).map { _ in [0, top, Int.random(in: 0...top, using: &generator)].randomElement(using: &generator)! }
            let atlas = AtlasLabels(path: "a", shape: [10, 10, 50], affine: .identity, labels: labels, names: [:])
            XCTAssertEqual(atlas.distinctLabels, Array(Set(labels)).sorted(), "labels up to \(top)")
        }
        XCTAssertEqual(AtlasLabels(path: "a", shape: [0, 0, 0], affine: .identity, labels: [], names: [:]).distinctLabels, [])
    }

    func testCRLFLabelTableWithAByteOrderMarkReadsAsLF() throws {
        for header in [true, false] {
            let lf = try atlas(header: header)
            for (newline, prefix) in [("\r\n", [0xEF, 0xBB, 0xBF]), ("\r\n", []), ("\r", [0xEF, 0xBB, 0xBF])] as [(String, [UInt8])] {
                let other = try atlas(header: header, newline: newline + newline, prefix: prefix)
                XCTAssertEqual(other.names, [3: "LBA_left", 7: "MTG_right"], "\(header) \(newline.debugDescription) \(prefix)")
                XCTAssertEqual(other.names, lf.names)
                let seed = SeedDefinition(name: "LBA", source: .atlasLabel("LBA_left"))
                XCTAssertEqual(try seed.voxelPositions(in: scan(), atlas: other, scanName: "s"),
                               try seed.voxelPositions(in: scan(), atlas: lf, scanName: "s"))
            }
        }
    }

    func testUnknownLabelSuggestsTheClosestName() throws {
        let atlas = try atlas(header: true)
        XCTAssertThrowsError(try atlas.value(of: "LBA_lft")) { error in
            XCTAssertTrue("\(error)".contains("did you mean 'LBA_left'"), "\(error)")
            XCTAssertEqual((error as! InputError).path, atlas.path)
        }
    }

    func testSeedOutsideTheMaskNamesSeedAndScan() throws {
        let atlas = try atlas(header: true)
        XCTAssertThrowsError(try SeedDefinition(name: "MTG", source: .atlasLabel("MTG_right")).voxelPositions(in: scan(), atlas: atlas, scanName: "sub-07_ses-baseline")) { error in
            let e = error as! InputError
            XCTAssertEqual(e.path, "sub-07_ses-baseline")
            XCTAssertEqual(e.field, "seed MTG")
            XCTAssertTrue(e.message.contains("none inside the scan's brain mask"))
        }
        XCTAssertThrowsError(try SeedDefinition(name: "far", source: .sphere(centre: [900, 0, 0], radius: 4)).voxelPositions(in: scan(), atlas: nil, scanName: "s")) {
            XCTAssertTrue("\($0)".contains("is empty on the data grid"))
        }
        XCTAssertThrowsError(try SeedDefinition(name: "a", source: .atlasLabel("x")).voxelPositions(in: scan(), atlas: nil, scanName: "s")) {
            XCTAssertTrue("\($0)".contains("no atlas"))
        }
    }

    func testSphereSeedAndMapRoundTrip() throws {
        let s = scan()
        // World (12, 12, 10) is voxel (2, 8, 5) on this grid.
        let positions = try SeedDefinition(name: "ball", source: .sphere(centre: [12, 12, 10], radius: 4)).voxelPositions(in: s, atlas: nil, scanName: "s")
        XCTAssertEqual(positions.count, 7)
        let map = s.map((0..<s.voxels.count).map { Float($0) })
        XCTAssertEqual(map.shape, [10, 10, 10])
        XCTAssertEqual(map.data[s.voxels[10]], 10)
        XCTAssertEqual(map.data[9], 0)
    }
}
