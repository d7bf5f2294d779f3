import Foundation
import XCTest
import PipelineEngine
@testable import Connectivity

/// Group-level stages with several runs per session: every run's map is collected (none is
/// silently dropped), and the qc stage's exclusions apply per run.
final class RunSelectionTests: XCTestCase {
    private func context(_ inputs: [TaskInput]) throws -> TaskContext {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("runsel-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return TaskContext(params: .object([:]), scope: .group, inputs: inputs, sources: [:], outputDirectory: dir,
                           logFile: nil, cancellation: CancellationFlag())
    }

    private func connectivity(_ subject: String, _ session: String, _ run: String?) -> TaskInput {
        let scope = Scope.scan(subject: subject, session: session, run: run)
        return TaskInput(fromIndex: 0, scope: scope, files: [
            "\(scope.label)_seed-A_stat-z_connectivity.nii.gz": URL(fileURLWithPath: "/maps/\(scope.label)_A.nii.gz"),
            "\(scope.label)_seed-B_stat-z_connectivity.nii.gz": URL(fileURLWithPath: "/maps/\(scope.label)_B.nii.gz"),
        ])
    }

    func testEveryRunIsCollectedAndQCExcludesRunsNotSubjects() throws {
        let exclusions = FileManager.default.temporaryDirectory.appendingPathComponent("exclusions-\(UUID().uuidString.prefix(8)).tsv")
        addTeardownBlock { try? FileManager.default.removeItem(at: exclusions) }
        try (QCExclusions.columns.joined(separator: "\t") + "\n"
             + "sub-01\tbase\t2\tmax_mean_fd\t0.7\t0.5\n"      // one of two runs: the subject stays
             + "sub-03\tbase\t1\tmax_mean_fd\t0.9\t0.5\n"      // both runs: the subject leaves
             + "sub-03\tbase\t2\tmin_dof\t10\t20\n"
             + "sub-04\tpost\tn/a\tmax_censored_fraction\t0.4\t0.2\n")  // another session only
            .write(to: exclusions, atomically: false, encoding: .utf8)
        let inputs = [connectivity("01", "base", "1"), connectivity("01", "base", "2"), connectivity("01", "post", "1"),
                      connectivity("02", "base", nil), connectivity("03", "base", "1"), connectivity("03", "base", "2"),
                      connectivity("04", "base", nil),
                      TaskInput(fromIndex: 1, scope: .group, files: ["exclusions.tsv": exclusions])]
        let ctx = try context(inputs)
        let maps = try StageInputs.zMaps(ctx, seed: "A", session: "base")
        XCTAssertEqual(maps.keys.sorted(), ["01", "02", "03", "04"])
        XCTAssertEqual(maps["01"], [.init(run: "1", url: URL(fileURLWithPath: "/maps/sub-01_ses-base_run-1_A.nii.gz")),
                                    .init(run: "2", url: URL(fileURLWithPath: "/maps/sub-01_ses-base_run-2_A.nii.gz"))])
        XCTAssertEqual(maps["02"], [.init(run: nil, url: URL(fileURLWithPath: "/maps/sub-02_ses-base_A.nii.gz"))])

        let selection = try QCExclusions.select(ctx, subjects: maps.keys.sorted(), sessions: [("base", maps)])
        XCTAssertEqual(selection.subjects, ["01", "02", "04"])
        XCTAssertEqual(selection.runs, [[[URL(fileURLWithPath: "/maps/sub-01_ses-base_run-1_A.nii.gz")],
                                         [URL(fileURLWithPath: "/maps/sub-02_ses-base_A.nii.gz")],
                                         [URL(fileURLWithPath: "/maps/sub-04_ses-base_A.nii.gz")]]])
        XCTAssertEqual(selection.excluded, [
            "sub-01 ses-base run-2: max_mean_fd 0.7 (threshold 0.5); the subject's other runs kept",
            "sub-03 ses-base run-1: max_mean_fd 0.9 (threshold 0.5)",
            "sub-03 ses-base run-2: min_dof 10 (threshold 20)",
        ])
        XCTAssertEqual(selection.averagedRuns, ["base": ["01": ["1"], "02": ["n/a"], "04": ["n/a"]]])

        // Across two sessions (a longitudinal test): sub-04's post scan is excluded, so it leaves;
        // a subject without maps at a session is the caller's to drop, not an exclusion.
        let post = try StageInputs.zMaps(ctx, seed: "A", session: "post")
        let both = try QCExclusions.select(ctx, subjects: ["01", "02"], sessions: [("base", maps), ("post", post)])
        XCTAssertEqual(both.subjects, ["01", "02"])
        XCTAssertEqual(both.runs[1], [[URL(fileURLWithPath: "/maps/sub-01_ses-post_run-1_A.nii.gz")], []])
        let withPost = try QCExclusions.select(ctx, subjects: ["04"], sessions: [("base", maps), ("post", ["04": [.init(run: nil, url: URL(fileURLWithPath: "/p"))]])])
        XCTAssertEqual(withPost.subjects, [])
        XCTAssertEqual(withPost.excluded, ["sub-04 ses-post: max_censored_fraction 0.4 (threshold 0.2)"])

        // Without a qc stage nothing is excluded and there is no list.
        let plain = try QCExclusions.select(try context(Array(inputs.dropLast())), subjects: ["01", "03"], sessions: [("base", maps)])
        XCTAssertEqual(plain.subjects, ["01", "03"])
        XCTAssertEqual(plain.runs[0].map(\.count), [2, 2])
        XCTAssertNil(plain.excluded)
        XCTAssertEqual(plain.averagedRuns, ["base": ["01": ["1", "2"], "03": ["1", "2"]]])
        let noRuns = try QCExclusions.select(try context(Array(inputs.dropLast())), subjects: ["02"], sessions: [("base", maps)])
        XCTAssertNil(noRuns.averagedRuns, "no scan with a run entity: nothing to list")
    }

    /// A run clean refused has no map: it is left out with its line, without a qc stage too, and
    /// once with one (whose exclusions list it as well).
    func testARefusedRunIsLeftOutWithItsLineWithOrWithoutQC() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("refused-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        func refused(_ subject: String, _ run: String?, dof: Int) throws -> TaskInput {
            let scope = Scope.scan(subject: subject, session: "base", run: run)
            let url = folder.appendingPathComponent(scope.label + ConnectivityKind.refusedFile)
            try OutputJSON.encode(CleanedScan.Refusal(rule: "min_dof", value: dof, threshold: 10, reason: "leaves \(dof) ..."), name: "r")
                .withUnsafeBytes { try Data($0).write(to: url) }
            return TaskInput(fromIndex: 0, scope: scope, files: [scope.label + ConnectivityKind.refusedFile: url])
        }
        let inputs = [connectivity("01", "base", "1"), try refused("01", "2", dof: 7), try refused("02", nil, dof: -2),
                      connectivity("03", "base", nil)]
        let maps = try StageInputs.zMaps(try context(inputs), seed: "A", session: "base")
        XCTAssertEqual(maps["01"]?.map(\.refusal?.description), [nil, "sub-01 ses-base run-2: clean_min_dof 7 (threshold 10)"])
        let lines = ["sub-01 ses-base run-2: clean_min_dof 7 (threshold 10); the subject's other runs kept",
                     "sub-02 ses-base: clean_min_dof -2 (threshold 10)"]
        let plain = try QCExclusions.select(try context(inputs), subjects: ["01", "02", "03"], sessions: [("base", maps)])
        XCTAssertEqual(plain.subjects, ["01", "03"])
        XCTAssertEqual(plain.runs[0], [[URL(fileURLWithPath: "/maps/sub-01_ses-base_run-1_A.nii.gz")], [URL(fileURLWithPath: "/maps/sub-03_ses-base_A.nii.gz")]])
        XCTAssertEqual(plain.excluded, lines)

        let exclusions = folder.appendingPathComponent("exclusions.tsv")
        try (QCExclusions.columns.joined(separator: "\t") + "\n" + "sub-01\tbase\t2\tclean_min_dof\t7\t10\n"
             + "sub-02\tbase\tn/a\tclean_min_dof\t-2\t10\n" + "sub-02\tbase\tn/a\tmax_mean_fd\t0.9\t0.5\n")
            .write(to: exclusions, atomically: false, encoding: .utf8)
        let withQC = try QCExclusions.select(try context(inputs + [TaskInput(fromIndex: 1, scope: .group, files: ["exclusions.tsv": exclusions])]),
                                             subjects: ["01", "02", "03"], sessions: [("base", maps)])
        XCTAssertEqual(withQC.subjects, ["01", "03"])
        XCTAssertEqual(withQC.excluded, [lines[0], lines[1], "sub-02 ses-base: max_mean_fd 0.9 (threshold 0.5)"])
    }
}
