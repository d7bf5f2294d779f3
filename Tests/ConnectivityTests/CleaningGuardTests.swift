import Foundation
import NIfTI
import Numerics
import PipelineEngine
import XCTest
@testable import Connectivity

/// `clean` refuses what would silently give wrong numbers: an implausible TR, a band-pass that
/// cannot apply, too few degrees of freedom; and a voxel left with rounding noise gets 0.
final class CleaningGuardTests: XCTestCase {
    private var folder: URL!
    private let affine = Affine(rows: [[-4, 0, 0, 20], [0, 4, 0, -20], [0, 0, 4, -10]])

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-guard-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { [folder] in try? FileManager.default.removeItem(at: folder!) }
    }

    /// A 4x3x2 x T run of seeded noise around 1000; voxel 0 is an exact linear trend if asked.
    private func bold(volumes: Int, tr: Double, trendVoxel: Bool = false, code: Int32 = 4, name: String? = nil) throws -> URL {
        var state: UInt64 = 42
        func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53) - 0.5
        }
        var data = [Float](repeating: 0, count: 24 * volumes)
        for t in 0..<volumes {
            for v in 0..<24 { data[t * 24 + v] = Float(1000 + 10 * next() + 3 * sin(Double(t + v) / 3)) }
            if trendVoxel { data[t * 24] = Float(500 + 3 * t) }
        }
        let url = folder.appendingPathComponent(name ?? "bold-\(volumes)-\(tr).nii.gz")
        try NIfTIFile.write(NIfTIImage(shape: [4, 3, 2, volumes], affine: affine, data: data, repetitionTime: tr, code: code), to: url.path)
        return url
    }

    /// Runs `clean` with `params` (JSON) on `bold` (and `confounds`); the task's output files.
    private func run(_ bold: URL, _ params: String, confounds: URL? = nil) throws -> [String: URL] {
        let kind = CleanKind()
        let p = kind.decode(try JSONValue.parse(params))
        let out = folder.appendingPathComponent("out-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let context = TaskContext(params: .object([:]), scope: .scan(subject: "01", session: "1", run: nil), inputs: [],
                                  sources: ["bold": bold, "confounds": confounds].compactMapValues { $0 }, outputDirectory: out,
                                  logFile: nil, cancellation: CancellationFlag())
        try kind.run(p, context)
        var files: [String: URL] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: out.path) { files[name] = out.appendingPathComponent(name) }
        return files
    }

    /// Runs `clean` with `params` (JSON) on `bold`; the cleaned run.
    private func clean(_ bold: URL, _ params: String, names: UnsafeMutablePointer<[String: URL]>? = nil) throws -> CleanedScan {
        let files = try run(bold, params)
        names?.pointee = files
        return try CleanedScan.read(files: files)
    }

    /// A confounds file whose framewise displacement is 0.1 mm at the volumes in `still` and
    /// 2 mm elsewhere (the first is n/a, as fMRIPrep writes it).
    private func confounds(volumes: Int, still: Range<Int>) throws -> URL {
        var text = "framewise_displacement\n"
        for t in 0..<volumes { text += t == 0 ? "n/a\n" : still.contains(t) ? "0.1\n" : "2\n" }
        let url = folder.appendingPathComponent("confounds-\(volumes)-\(still.lowerBound)-\(still.upperBound).tsv")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func testARunCensoringLeavesTooFewDegreesOfFreedomIsRefusedAndRecordedNotCleaned() throws {
        let b = try bold(volumes: 60, tr: 2)
        let scrub = #"{"mask": "none", "filter": "none", "scrub_fd": 0.5}"#
        // Volumes 0..<11 still (volume 1 is the first with an FD): 11 kept leave 11 − 2 = 9.
        let files = try run(b, scrub, confounds: try confounds(volumes: 60, still: 1..<11))
        let stem = "sub-01_ses-1_task-rest"
        XCTAssertEqual(files.keys.sorted(), [stem + CleanedScan.infoFile], "a refused run has its info only: no series, mask or mean image")
        let info = try CleanedScan.readInfo(files[stem + CleanedScan.infoFile]!)
        let refusal = try XCTUnwrap(info.refusal)
        XCTAssertEqual([refusal.rule, String(refusal.value), String(refusal.threshold), refusal.exclusionRule], ["min_dof", "9", "10", "clean_min_dof"])
        XCTAssertTrue(refusal.reason.hasPrefix("leaves 9 residual degrees of freedom, fewer than min_dof 10: 11 of 60 volumes kept (49 censored)"), refusal.reason)
        XCTAssertEqual([info.keptVolumes, info.quality.keptVolumes, info.quality.censoredVolumes, info.residualDegreesOfFreedom], [11, 11, 49, 9])
        XCTAssertEqual(info.quality.meanFD ?? 0, (10 * 0.1 + 49 * 2) / 59, accuracy: 1e-12, "the QC values are recorded")
        XCTAssertNil(info.quality.medianTSNR, "nothing was computed from an uncleaned series")
        XCTAssertThrowsError(try CleanedScan.read(files: files)) { error in
            XCTAssertTrue("\(error)".contains("the run was refused, not cleaned"), "\(error)")
        }
        // One more still volume leaves 10: cleaned.
        let kept = try CleanedScan.read(files: try run(b, scrub, confounds: try confounds(volumes: 60, still: 1..<12)))
        XCTAssertNil(kept.info.refusal)
        XCTAssertEqual([kept.info.keptVolumes, kept.info.residualDegreesOfFreedom], [12, 10])
        // Every volume censored: refused, with the degrees of freedom of no volume.
        let none = try CleanedScan.readInfo(try run(b, scrub, confounds: try confounds(volumes: 60, still: 0..<0))[stem + CleanedScan.infoFile]!)
        XCTAssertEqual([none.refusal?.value, none.keptVolumes], [-2, 0])
    }

    func testTooFewDegreesOfFreedomEvenUncensoredIsAnErrorNotARefusal() throws {
        // 11 volumes leave 9 uncensored: the settings are at fault, censoring or not, and the
        // error is the same whatever each run's censoring (so a stage's failures group as one).
        let b = try bold(volumes: 11, tr: 2)
        var errors: [String] = []
        for still in [1..<10, 1..<9] {
            XCTAssertThrowsError(try run(b, #"{"mask": "none", "filter": "none", "scrub_fd": 0.5, "scrub_min_segment": 0}"#,
                                         confounds: try confounds(volumes: 11, still: still))) { errors.append("\($0)") }
        }
        XCTAssertEqual(errors.count, 2)
        XCTAssertEqual(Set(errors).count, 1, "\(errors)")
        XCTAssertTrue(errors[0].contains("leaves 9 residual degrees of freedom, fewer than min_dof 10: 11 of 11 volumes kept; "
                                         + "the mean and linear trend use 2 (before censoring, which leaves fewer still)"), errors[0])
    }

    /// Censoring every volume leaves nothing to clean; whether the settings are at fault is judged
    /// by the rank of the uncensored run's confounds, not their number: two collinear columns
    /// count once, as they do when the run is cleaned.
    func testEveryVolumeCensoredIsJudgedByTheConfoundsRank() throws {
        let b = try bold(volumes: 14, tr: 2)
        var text = "framewise_displacement\ta\tb\n"
        for t in 0..<14 { text += (t == 0 ? "n/a" : "2") + "\t\(sin(Double(t)))\t\(2 * sin(Double(t)))\n" }
        let confounds = folder.appendingPathComponent("collinear.tsv")
        try text.write(to: confounds, atomically: true, encoding: .utf8)
        // Uncensored: 14 − 2 − rank 1 = 11 (with the 2 columns counted, 10).
        let params = #"{"mask": "none", "filter": "none", "confounds": "a+b", "scrub_fd": 0.5, "min_dof": 11}"#
        let files = try run(b, params, confounds: confounds)
        let info = try CleanedScan.readInfo(try XCTUnwrap(files["sub-01_ses-1_task-rest" + CleanedScan.infoFile]))
        XCTAssertEqual([info.refusal?.value, info.keptVolumes], [-2, 0], "refused, not an error")
        // With min_dof 12 the settings leave too few even uncensored: an error naming the rank.
        XCTAssertThrowsError(try run(b, params.replacingOccurrences(of: "11}", with: "12}"), confounds: confounds)) { error in
            XCTAssertTrue("\(error)".contains("leaves 11 residual degrees of freedom, fewer than min_dof 12: 14 of 14 volumes kept; "
                                              + "the mean and linear trend use 2; 2 confound columns, of rank 1 once filtered and detrended, use 1"), "\(error)")
        }
    }

    func testATRInMillisecondsIsAnErrorUnlessTheSpecStatesTheTR() throws {
        let b = try bold(volumes: 60, tr: 2000)
        XCTAssertThrowsError(try clean(b, #"{"mask": "none", "filter": "butterworth"}"#)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("is 2000.0 s, outside 0.1–30 s") && text.contains("set repetition_time"), text)
        }
        // Even without a filter: every later use of the TR would be wrong.
        XCTAssertThrowsError(try clean(b, #"{"mask": "none", "filter": "none"}"#))
        let stated = try clean(b, #"{"mask": "none", "filter": "butterworth", "repetition_time": 2}"#)
        XCTAssertEqual(stated.info.repetitionTime, 2)
        let unfiltered = try clean(b, #"{"mask": "none", "filter": "none", "repetition_time": 2}"#)
        let a = stated.series.withUnsafeBufferPointer { Array($0) }, c = unfiltered.series.withUnsafeBufferPointer { Array($0) }
        XCTAssertNotEqual(a, c, "the band-pass that was asked for was applied")
    }

    func testACutOffAtOrAboveNyquistIsAnErrorNotASkippedFilter() throws {
        let b = try bold(volumes: 60, tr: 2)
        XCTAssertThrowsError(try clean(b, #"{"mask": "none", "high_pass": 0.01, "low_pass": 0.3}"#)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("0.3 Hz is at or above the Nyquist frequency 0.25 Hz") && text.contains("low_pass"), text)
        }
        XCTAssertThrowsError(try clean(b, #"{"mask": "none", "filter": "ideal", "high_pass": 0.3, "low_pass": 0}"#))
    }

    func testTooFewDegreesOfFreedomIsAnErrorSayingWhereTheyWent() throws {
        // detrend: mean and trend use 2, so 12 volumes leave 10 (the default minimum), 11 leave 9.
        XCTAssertEqual(try clean(try bold(volumes: 12, tr: 2), #"{"mask": "none", "filter": "none"}"#).info.residualDegreesOfFreedom, 10)
        XCTAssertThrowsError(try clean(try bold(volumes: 11, tr: 2), #"{"mask": "none", "filter": "none"}"#)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("leaves 9 residual degrees of freedom, fewer than min_dof 10") && text.contains("the mean and linear trend use 2"), text)
        }
        XCTAssertThrowsError(try clean(try bold(volumes: 2, tr: 2), #"{"mask": "none", "filter": "none"}"#)) { error in
            XCTAssertTrue("\(error)".contains("leaves 0 residual degrees of freedom"), "\(error)")
        }
        // The band-pass counts: 0.01–0.1 Hz at TR 2 s keeps 36% of 40 volumes (14), minus 2.
        XCTAssertThrowsError(try clean(try bold(volumes: 30, tr: 2), #"{"mask": "none", "filter": "ideal", "high_pass": 0.01, "low_pass": 0.1}"#)) { error in
            XCTAssertTrue("\(error)".contains("leaves 8 residual degrees of freedom") && "\(error)".contains("keeps 36% of the spectrum (10)"), "\(error)")
        }
        XCTAssertEqual(try clean(try bold(volumes: 40, tr: 2), #"{"mask": "none", "high_pass": 0.01, "low_pass": 0.1}"#).info.residualDegreesOfFreedom, 12)
        XCTAssertEqual(try clean(try bold(volumes: 11, tr: 2), #"{"mask": "none", "filter": "none", "min_dof": 5}"#).info.residualDegreesOfFreedom, 9)
    }

    func testAVoxelLeftWithRoundingNoiseIsZeroAndItsCorrelationsZero() throws {
        let scan = try clean(try bold(volumes: 60, tr: 2, trendVoxel: true), #"{"mask": "none", "filter": "none"}"#)
        XCTAssertEqual(scan.info.zeroedVoxels, 1)
        let values = scan.series.withUnsafeBufferPointer { Array($0) }
        let voxel0 = stride(from: 0, to: values.count, by: 24).map { values[$0] }
        XCTAssertEqual(Set(voxel0), [0], "the detrended pure trend is 0, not amplified rounding noise")
        let voxel1 = stride(from: 1, to: values.count, by: 24).map { values[$0] }
        XCTAssertGreaterThan(Set(voxel1).count, 50, "a real voxel keeps its signal")
        let r = try values.withUnsafeBufferPointer { try SeedCorrelation.pearson(seeds: [voxel1.map(Double.init)], data: $0, timePoints: 60) }
        XCTAssertEqual(r[0][0], 0)
    }

    func testAScannerSpaceInputIsNotRelabelledMNI() throws {
        // A run in scanner space (code 1) whose name has no space entity: outputs carry code 1
        // and no space entity; an MNI run named with its space keeps both.
        var names: [String: URL] = [:]
        let scanner = try clean(try bold(volumes: 60, tr: 2, code: 1, name: "sub-01_task-rest_bold.nii.gz"), #"{"mask": "none"}"#, names: &names)
        XCTAssertEqual(scanner.info.xformCode, 1)
        XCTAssertEqual(scanner.info.space, "")
        XCTAssertTrue(names.keys.allSatisfy { !$0.contains("space-") }, "\(names.keys)")
        let mask = try NIfTIFile.readHeader(names.first { $0.key.hasSuffix("_mask.nii.gz") }!.value.path).header
        XCTAssertEqual(mask.sformCode, 1)
        XCTAssertEqual(mask.qformCode, 1)
        let mni = try clean(try bold(volumes: 60, tr: 2, code: 4, name: "sub-01_task-rest_space-MNI152NLin6Asym_desc-preproc_bold.nii.gz"),
                            #"{"mask": "none"}"#, names: &names)
        XCTAssertEqual(mni.info.space, "MNI152NLin6Asym", "the input's own space entity, not the default")
        XCTAssertEqual(mni.info.xformCode, 4)
        XCTAssertTrue(names.keys.contains { $0.contains("_space-MNI152NLin6Asym_") }, "\(names.keys)")
    }
}
