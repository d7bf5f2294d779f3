import Foundation
import NIfTI
import Numerics
import XCTest
@testable import Connectivity

final class SynthTests: XCTestCase {
    private func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-synth-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func text(_ url: URL) throws -> String { try String(contentsOf: url, encoding: .utf8) }

    /// The BIDS/fMRIPrep layout, sidecars, confound names and image headers.
    func testLayoutSidecarsAndHeaders() throws {
        let root = try temporaryFolder()
        let summary = try SynthDataset.generate(to: root.path, options: .init(subjects: ["sub-01", "sub-02"]))
        XCTAssertEqual(summary.scans, 4)
        let participants = try text(root.appendingPathComponent("participants.tsv")).split(separator: "\n")
        XCTAssertEqual(participants.first, "participant_id\tgroup\tresponder\tage\tsex\tmadrs_baseline\tmadrs_day13\tmadrs_change_pct")
        XCTAssertEqual(participants.count, 3)
        let sidecar = try JSONSerialization.jsonObject(with: Data(contentsOf: root.appendingPathComponent("participants.json"))) as! [String: Any]
        for column in ["participant_id", "group", "responder", "age", "sex", "madrs_baseline", "madrs_day13", "madrs_change_pct", "PlantedEffects"] {
            XCTAssertNotNil(sidecar[column], "participants.json lacks \(column)")
        }
        let description = try JSONSerialization.jsonObject(with: Data(contentsOf: root.appendingPathComponent("derivatives/fmriprep/dataset_description.json"))) as! [String: Any]
        XCTAssertEqual(description["DatasetType"] as? String, "derivative")

        for session in ["baseline", "day13"] {
            let func_ = root.appendingPathComponent("derivatives/fmriprep/sub-02/ses-\(session)/func")
            let stem = "sub-02_ses-\(session)_task-rest"
            let bold = try NIfTIFile.readHeader(func_.appendingPathComponent("\(stem)_space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz").path)
            XCTAssertEqual(bold.header.shape, [46, 55, 46, 120])
            XCTAssertEqual(bold.header.datatype, .int16)
            XCTAssertEqual(bold.header.scaling?.slope ?? 0, 0.05, accuracy: 1e-9)
            XCTAssertEqual(bold.header.repetitionTime, 2)
            XCTAssertEqual(bold.header.sformCode, 4)
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: func_.appendingPathComponent("\(stem)_space-MNI152NLin2009cAsym_desc-preproc_bold.json"))) as! [String: Any]
            XCTAssertEqual(json["RepetitionTime"] as? Double, 2)
            let mask = try NIfTIFile.read(func_.appendingPathComponent("\(stem)_space-MNI152NLin2009cAsym_desc-brain_mask.nii.gz").path)
            let inMask = mask.data.filter { $0 == 1 }.count
            XCTAssertGreaterThan(inMask, 20_000)
            XCTAssertEqual(inMask + mask.data.filter { $0 == 0 }.count, mask.data.count)

            let tsv = try text(func_.appendingPathComponent("\(stem)_desc-confounds_timeseries.tsv")).split(separator: "\n")
            XCTAssertEqual(tsv.count, 121)
            let names = tsv[0].split(separator: "\t").map(String.init)
            for name in ["trans_x", "trans_x_derivative1", "trans_x_power2", "trans_x_derivative1_power2", "rot_z_derivative1_power2",
                         "framewise_displacement", "dvars", "std_dvars", "csf", "white_matter", "global_signal",
                         "a_comp_cor_00", "a_comp_cor_04", "cosine00", "cosine02"] {
                XCTAssertTrue(names.contains(name), "confounds lack \(name)")
            }
            let first = tsv[1].split(separator: "\t").map(String.init)
            for (name, value) in zip(names, first) {
                let expectNA = name.contains("derivative1") || ["framewise_displacement", "dvars", "std_dvars"].contains(name)
                XCTAssertEqual(value == "n/a", expectNA, "first row of \(name) is \(value)")
            }
        }
        let atlasTSV = try text(root.appendingPathComponent("atlas/atlas-synth_space-MNI152NLin2009cAsym_res-4mm_dseg.tsv"))
        for name in ["LBA_left", "CMA_right", "SFA_left", "precuneus_left", "MTG_right"] { XCTAssertTrue(atlasTSV.contains("\t\(name)\n")) }
        let atlas = try NIfTIFile.read(root.appendingPathComponent("atlas/atlas-synth_space-MNI152NLin2009cAsym_res-4mm_dseg.nii.gz").path)
        for region in SynthAtlas.regions {
            XCTAssertGreaterThanOrEqual(atlas.data.filter { Int($0) == region.index }.count, 5, "\(region.name) has too few voxels")
        }
    }

    /// The same seed gives byte-identical files, whatever the job count and whoever else is generated.
    func testDeterministicAndIndependentOfTheRestOfTheCohort() throws {
        let a = try temporaryFolder(), b = try temporaryFolder()
        var alone = SynthDataset.Options(subjects: ["sub-03"])
        alone.jobs = 1
        var together = SynthDataset.Options(subjects: ["sub-03", "sub-04"])
        together.jobs = 2
        _ = try SynthDataset.generate(to: a.path, options: alone)
        _ = try SynthDataset.generate(to: b.path, options: together)
        for session in ["baseline", "day13"] {
            let folder = "derivatives/fmriprep/sub-03/ses-\(session)/func"
            for file in try FileManager.default.contentsOfDirectory(atPath: a.appendingPathComponent(folder).path) {
                XCTAssertEqual(try Data(contentsOf: a.appendingPathComponent("\(folder)/\(file)")),
                               try Data(contentsOf: b.appendingPathComponent("\(folder)/\(file)")), file)
            }
        }
    }

    // MARK: - The signal, checked on in-memory scans

    private let grid = SynthGrid(scale: .demo)
    private lazy var atlas = SynthAtlas(grid: grid)

    private func scans(_ cohort: SynthCohort, _ requests: [(SynthCohort.Participant, String)]) -> [SynthScan] {
        let atlas = self.atlas, grid = self.grid
        let box = ScanBox(count: requests.count)
        DispatchQueue.concurrentPerform(iterations: requests.count) { i in
            box.set(i, SynthScan(grid: grid, atlas: atlas, participant: requests[i].0, session: requests[i].1, seed: cohort.seed))
        }
        return box.scans
    }

    /// Mean series of an atlas region.
    private func regionMean(_ scan: SynthScan, _ name: String) -> [Double] {
        let index = SynthAtlas.index(of: name)!
        let voxels = (0..<grid.voxelCount).filter { atlas.labels[$0] == index }
        return (0..<grid.volumes).map { t in voxels.reduce(0.0) { $0 + Double(scan.data[t * grid.voxelCount + $1]) } / Double(voxels.count) }
    }

    private func confoundMatrix(_ scan: SynthScan, _ names: [String]) -> Matrix {
        let T = grid.volumes
        var columns: [[Double]] = [[Double](repeating: 1, count: T), (0..<T).map { Double($0) / Double(T) - 0.5 }]
        for name in names {
            let values = scan.confounds.first { $0.name == name }!.values
            columns.append(values.map { $0.isNaN ? 0 : $0 })
        }
        return Matrix(columns: columns)
    }

    private func residualise(_ y: [Double], on x: Matrix) -> [Double] {
        let q = QRDecomposition(x).q
        var out = y
        for c in 0..<q.columns {
            let column = q.column(c)
            let dot = zip(column, y).map(*).reduce(0, +)
            for t in 0..<y.count { out[t] -= dot * column[t] }
        }
        return out
    }

    private func correlation(_ a: [Double], _ b: [Double]) -> Double {
        let ma = a.reduce(0, +) / Double(a.count), mb = b.reduce(0, +) / Double(b.count)
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for i in a.indices { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) * (a[i] - ma); sbb += (b[i] - mb) * (b[i] - mb) }
        return sab / (saa * sbb).squareRoot()
    }

    private static let motion6 = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"]
    private static let motion24 = motion6.flatMap { [$0, $0 + "_derivative1", $0 + "_power2", $0 + "_derivative1_power2"] }

    /// Region-mean coupling after the demo's cleaning (nilearn signal.clean equivalent): detrend,
    /// 6P + WM + CSF regression, 0.01-0.1 Hz Butterworth band-pass. (A 120-volume run has too few
    /// degrees of freedom in the BOLD band for 24P.)
    private func coupling(_ scan: SynthScan, _ pair: SynthCohort.SynthPair) throws -> Double {
        let names = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z", "csf", "white_matter"]
        let confounds = Matrix(columns: names.map { name in scan.confounds.first { $0.name == name }!.values }.map { column in
            let first = column.first { !$0.isNaN } ?? 0
            return column.map { $0.isNaN ? first : $0 }
        })
        let (seed, target) = pair.regions
        let signals = Matrix(columns: [regionMean(scan, seed), regionMean(scan, target)])
        var options = SignalCleanOptions(lowPass: 0.1, highPass: 0.01, repetitionTime: grid.repetitionTime)
        options.standardize = nil
        let cleaned = try SignalClean(options: options).clean(signals, confounds: confounds)
        return correlation(cleaned.column(0), cleaned.column(1))
    }

    /// The motion confounds explain the motion artefacts. In voxels far from the centre (large
    /// motion gain, and the spin-history fields of the x axis), over the volumes scrubbing keeps:
    /// the 24 motion regressors explain much more variance than the same regressors reversed in
    /// time, and more than the 6 parameters alone, because the spin-history term follows the
    /// squared steps that only 24P holds; the more the subject moves, the larger that gap. FD and
    /// std_dvars flag the jerks.
    func testConfoundsExplainTheMotionArtefacts() throws {
        let cohort = SynthCohort(seed: 1, null: false)
        let typical = cohort.participants[0], mover = cohort.participants.first { $0.id == "sub-14" }!
        XCTAssertEqual(mover.motion["day13"], SynthCohort.plantedMotion["sub-14"]?["day13"])
        let both = scans(cohort, [(typical, "baseline"), (mover, "day13")])
        let T = grid.volumes, V = grid.voxelCount
        let edge = (0..<V).filter { grid.mask[$0] && abs(grid.world($0)[0]) > 56 }
        XCTAssertGreaterThan(edge.count, 200)
        func explained(_ scan: SynthScan) -> (p24: Double, p6: Double, reversed: Double) {
            let fd = scan.confounds.first { $0.name == "framewise_displacement" }!.values
            let kept = (1..<T).filter { fd[$0] <= 0.5 && ($0 + 1 == T || fd[$0 + 1] <= 0.5) }
            func rows(_ m: Matrix) -> Matrix {
                var out = Matrix(rows: kept.count, columns: m.columns)
                for (i, t) in kept.enumerated() { for c in 0..<m.columns { out[i, c] = m[t, c] } }
                return out
            }
            let x24 = confoundMatrix(scan, Self.motion24), x6 = confoundMatrix(scan, Self.motion6)
            var reversed = x24
            for t in 0..<T { for c in 2..<x24.columns { reversed[t, c] = x24[T - 1 - t, c] } }
            func meanR2(_ design: Matrix) -> Double {
                let d = rows(design)
                var total = 0.0
                for v in edge.prefix(400) {
                    let y = kept.map { Double(scan.data[$0 * V + v]) }
                    let m = y.reduce(0, +) / Double(y.count)
                    let ss = y.map { ($0 - m) * ($0 - m) }.reduce(0, +)
                    let r = residualise(y, on: d)
                    total += 1 - r.map { $0 * $0 }.reduce(0, +) / ss
                }
                return total / Double(min(400, edge.count))
            }
            return (meanR2(x24), meanR2(x6), meanR2(reversed))
        }
        let a = explained(both[0]), b = explained(both[1])
        let report = "typical: 24P \(a.p24), 6P \(a.p6), reversed 24P \(a.reversed); mover: 24P \(b.p24), 6P \(b.p6), reversed \(b.reversed)"
        // (Reversed regressors still fit the slow drifts, most of a typical scan's variance.)
        XCTAssertGreaterThan(a.p24, a.reversed + 0.03, report)
        XCTAssertGreaterThan(b.p24, b.reversed + 0.5, report)
        XCTAssertGreaterThan(a.p24, a.p6 + 0.1, report)
        XCTAssertGreaterThan(b.p24 - b.p6, 2 * (a.p24 - a.p6), report)

        let scan = both[0]
        let fd = scan.confounds.first { $0.name == "framewise_displacement" }!.values
        let std = scan.confounds.first { $0.name == "std_dvars" }!.values
        let flaggedFD = (1..<T).filter { fd[$0] > 0.5 }
        let flaggedDVARS = Set((1..<T).filter { std[$0] > 1.5 })
        XCTAssertGreaterThanOrEqual(flaggedFD.count, SynthScan.spikes, "each jerk should exceed FD 0.5 mm")
        XCTAssertLessThanOrEqual(flaggedFD.count, 2 * SynthScan.spikes)
        XCTAssertTrue(flaggedFD.contains { flaggedDVARS.contains($0) }, "high-motion volumes should also have high std DVARS")
    }

    /// Welch's t of a − b.
    private func welch(_ a: ArraySlice<Double>, _ b: ArraySlice<Double>) -> Double {
        func stats(_ x: ArraySlice<Double>) -> (Double, Double) {
            let m = x.reduce(0, +) / Double(x.count)
            return (m, x.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(x.count - 1))
        }
        let (ma, va) = stats(a), (mb, vb) = stats(b)
        return (ma - mb) / (va / Double(a.count) + vb / Double(b.count)).squareRoot()
    }

    /// The planted effects exist at the stated strength in the raw data (8 subjects a group):
    /// each planted difference has t > 3, and measured couplings track the planted ones.
    func testPlantedCouplingsAppearInTheRawData() throws {
        let cohort = SynthCohort(seed: 1, null: false)
        let responders = cohort.participants.filter { $0.group == "anxious" && $0.responder }.prefix(12)
        let nonresponders = cohort.participants.filter { $0.group == "anxious" && !$0.responder }.prefix(11)
        let nonanxious = cohort.participants.filter { $0.group == "nonanxious" }.prefix(12)
        let requests = responders.map { ($0, "baseline") } + nonresponders.map { ($0, "baseline") }
            + responders.map { ($0, "day13") } + nonanxious.map { ($0, "baseline") }
        let all = scans(cohort, requests)
        let lba = try all.map { try coupling($0, .lbaPrecuneus) }, cma = try all.map { try coupling($0, .cmaMTG) }
        XCTAssertGreaterThan(welch(lba[0..<12], lba[12..<23]), 3, "responders vs non-responders at baseline: \(lba[0..<23])")
        let drop = (0..<12).map { lba[$0] - lba[23 + $0] }
        let meanDrop = drop.reduce(0, +) / 12
        let sdDrop = (drop.map { ($0 - meanDrop) * ($0 - meanDrop) }.reduce(0, +) / 11).squareRoot()
        XCTAssertGreaterThan(meanDrop / (sdDrop / 12.0.squareRoot()), 3, "responders' coupling should fall by day 13: \(drop)")
        XCTAssertGreaterThan(welch(cma[35..<47], cma[0..<23]), 3, "CMA-MTG: non-anxious vs anxious")
        // Measured couplings track the planted ones scan by scan, with a slope near 1.
        let planted = requests.map { $0.0.coupling[$0.1]![.lbaPrecuneus]! } + requests.map { $0.0.coupling[$0.1]![.cmaMTG]! }
        XCTAssertGreaterThan(correlation(planted, lba + cma), 0.7)
        // And the baseline coupling relates to MADRS improvement among anxious patients.
        let improvement = (responders + nonresponders).map { -$0.madrsChangePercent }
        XCTAssertGreaterThan(correlation(improvement, Array(lba[0..<23])), 0.5)
    }

    /// With --null the same cohort has no planted effect: group differences stay at chance level
    /// (|t| < 3.5, p ≈ 0.001). Chance does show: with seed 1, null responders vs non-responders
    /// give t ≈ −2.9 on these subsets (opposite to the planted direction), where the planted
    /// cohort gives t ≈ +4.2 on all 31 anxious patients and paired t ≈ 9.5 for the day-13 drop.
    func testNullCohortHasNoPlantedEffects() throws {
        let cohort = SynthCohort(seed: 1, null: true)
        let responders = cohort.participants.filter { $0.group == "anxious" && $0.responder }.prefix(12)
        let nonresponders = cohort.participants.filter { $0.group == "anxious" && !$0.responder }.prefix(11)
        let nonanxious = cohort.participants.filter { $0.group == "nonanxious" }.prefix(12)
        let all = scans(cohort, responders.map { ($0, "baseline") } + nonresponders.map { ($0, "baseline") } + nonanxious.map { ($0, "baseline") })
        let lba = try all.map { try coupling($0, .lbaPrecuneus) }, cma = try all.map { try coupling($0, .cmaMTG) }
        XCTAssertLessThan(abs(welch(lba[0..<12], lba[12..<23])), 3.5)
        XCTAssertLessThan(abs(welch(cma[23..<35], cma[0..<23])), 3.5)
        XCTAssertTrue(cohort.participants.allSatisfy { $0.coupling["baseline"]![.lbaPrecuneus]! < 0.45 })
    }
}

/// Collects scans from concurrent workers.
private final class ScanBox: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [SynthScan?]
    init(count: Int) { storage = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ scan: SynthScan) { lock.withLock { storage[i] = scan } }
    var scans: [SynthScan] { storage.map { $0! } }
}
