import XCTest
import NIfTI
import PipelineEngine
@testable import Connectivity

/// The clean task's cached series: filled in place in its mapped file and cut to the kept volumes,
/// or written from memory; read back by mapping; a file that does not match its description is
/// an error naming it.
final class CleanedScanTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("cleaned-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { [folder] in try? FileManager.default.removeItem(at: folder!) }
    }

    private func context(_ name: String) throws -> TaskContext {
        let out = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        return TaskContext(params: .object([:]), scope: .scan(subject: "01", session: "baseline", run: nil), inputs: [],
                           sources: [:], outputDirectory: out, logFile: nil, cancellation: CancellationFlag())
    }

    /// 4 x 5 x 3 grid, voxels with an even index in the mask; `kept` of `volumes` rows.
    private func info(volumes: Int, kept: Int) -> CleanedScan.Info {
        CleanedScan.Info(prefix: "sub-01_ses-baseline_task-rest", space: "MNI152NLin2009cAsym", repetitionTime: 2, volumes: volumes,
                         keptVolumes: kept, censoredVolumes: Array(kept..<volumes), voxelCount: 30, gridShape: [4, 5, 3],
                         affine: Affine.identity.rows, confoundColumns: ["csf"], nonFiniteVoxels: 0,
                         residualDegreesOfFreedom: kept - 3, droppedConfounds: nil, zeroedVoxels: 0, standardize: nil, xformCode: 4,
                         quality: ScanQuality(volumes: volumes, keptVolumes: kept, censoredVolumes: volumes - kept,
                                              censoredFraction: Double(volumes - kept) / Double(volumes), residualDegreesOfFreedom: kept - 3))
    }

    private var voxels: [Int] { (0..<60).filter { $0 % 2 == 0 } }

    private func files(in context: TaskContext) throws -> [String: URL] {
        let names = try FileManager.default.contentsOfDirectory(atPath: context.outputDirectory.path)
        return Dictionary(uniqueKeysWithValues: names.map { ($0, context.outputDirectory.appendingPathComponent($0)) })
    }

    func testMappedSeriesIsCutToTheKeptVolumesAndReadsBack() throws {
        let context = try context("mapped")
        let series = try CleanedScan.makeSeries(in: context, prefix: "sub-01_ses-baseline_task-rest", space: "MNI152NLin2009cAsym", count: 7 * 30)
        XCTAssertNotNil(series.mappedFile)
        for i in series.indices { series[i] = Float(i) * 0.5 - 3 }
        series.truncate(to: 5 * 30)   // two volumes censored
        try CleanedScan(info: info(volumes: 7, kept: 5), series: series, voxels: voxels).write(to: context)

        let files = try files(in: context)
        let seriesURL = try XCTUnwrap(files.first { $0.key.hasSuffix(CleanedScan.seriesFile) }?.value)
        XCTAssertEqual(try FileSystem.identity(of: seriesURL.path)?.size, Int64(5 * 30 * 4))
        XCTAssertEqual(context.outputDigests[seriesURL.lastPathComponent]?.sha256, try FileSystem.sha256(ofFile: seriesURL.path))

        let back = try CleanedScan.read(files: files)
        XCTAssertEqual(back.info, info(volumes: 7, kept: 5))
        XCTAssertEqual(back.voxels, voxels)
        XCTAssertEqual(Array(back.series), (0..<(5 * 30)).map { Float($0) * 0.5 - 3 })
    }

    func testSeriesInMemoryIsWrittenAndHashedTheSame() throws {
        let mapped = try context("mapped"), memory = try context("memory")
        let values = (0..<(6 * 30)).map { Float($0 % 17) - 8.25 }
        let inFile = try CleanedScan.makeSeries(in: mapped, prefix: "sub-01_ses-baseline_task-rest", space: "MNI152NLin2009cAsym", count: values.count)
        let inMemory = SeriesBuffer(zeros: values.count)
        for i in values.indices { inFile[i] = values[i]; inMemory[i] = values[i] }
        try CleanedScan(info: info(volumes: 6, kept: 6), series: inFile, voxels: voxels).write(to: mapped)
        try CleanedScan(info: info(volumes: 6, kept: 6), series: inMemory, voxels: voxels).write(to: memory)
        let name = "sub-01_ses-baseline_task-rest_space-MNI152NLin2009cAsym" + CleanedScan.seriesFile
        XCTAssertEqual(try Data(contentsOf: mapped.outputDirectory.appendingPathComponent(name)),
                       try Data(contentsOf: memory.outputDirectory.appendingPathComponent(name)))
        XCTAssertEqual(mapped.outputDigests[name]?.sha256, memory.outputDigests[name]?.sha256)
    }

    func testSeriesFileOfTheWrongSizeIsAnErrorNamingIt() throws {
        let context = try context("short")
        let series = SeriesBuffer(zeros: 4 * 30)
        try CleanedScan(info: info(volumes: 4, kept: 4), series: series, voxels: voxels).write(to: context)
        let files = try files(in: context)
        let seriesURL = try XCTUnwrap(files.first { $0.key.hasSuffix(CleanedScan.seriesFile) }?.value)
        XCTAssertEqual(truncate(seriesURL.path, 4 * 30 * 4 - 8), 0)
        XCTAssertThrowsError(try CleanedScan.read(files: files)) { error in
            XCTAssertTrue("\(error)".contains(seriesURL.path) && "\(error)".contains("size does not match"), "\(error)")
        }
    }

    func testUnreadableOrBrokenInfoIsAPlainErrorNamingIt() throws {
        let context = try context("info")
        try CleanedScan(info: info(volumes: 4, kept: 4), series: SeriesBuffer(zeros: 4 * 30), voxels: voxels).write(to: context)
        var files = try files(in: context)
        let key = try XCTUnwrap(files.keys.first { $0.hasSuffix(CleanedScan.infoFile) })
        let infoURL = files[key]!
        func failure(_ files: [String: URL]) -> String {
            do { _ = try CleanedScan.read(files: files); return "no error" } catch { return "\(error)" }
        }
        // Not there (a cache entry cut short): strerror's words, not Foundation's error dump.
        files[key] = context.outputDirectory.appendingPathComponent("gone.json")
        var message = failure(files)
        XCTAssertEqual(message, "\(files[key]!.path): cannot be read as a clean stage's \(CleanedScan.infoFile): No such file or directory")
        // Not JSON, and JSON without a field.
        files[key] = infoURL
        try Data("{\"prefix\": ".utf8).write(to: infoURL)
        message = failure(files)
        XCTAssertTrue(message.hasPrefix("\(infoURL.path): cannot be read as a clean stage's \(CleanedScan.infoFile): invalid JSON"), message)
        try Data("{\"prefix\": \"x\"}".utf8).write(to: infoURL)
        message = failure(files)
        XCTAssertEqual(message, "\(infoURL.path): cannot be read as a clean stage's \(CleanedScan.infoFile): missing key 'space'")
    }

    func testAMissingSeriesFileSaysWhy() throws {
        let context = try context("noseries")
        try CleanedScan(info: info(volumes: 4, kept: 4), series: SeriesBuffer(zeros: 4 * 30), voxels: voxels).write(to: context)
        var files = try files(in: context)
        let key = try XCTUnwrap(files.keys.first { $0.hasSuffix(CleanedScan.seriesFile) })
        try FileManager.default.removeItem(at: files[key]!)
        XCTAssertThrowsError(try CleanedScan.read(files: files)) { error in
            XCTAssertTrue("\(error)".hasSuffix("No such file or directory"), "\(error)")
        }
        files[key] = nil
        XCTAssertThrowsError(try CleanedScan.read(files: files)) { XCTAssertTrue("\($0)".contains("not the output of a clean stage"), "\($0)") }
    }
}
