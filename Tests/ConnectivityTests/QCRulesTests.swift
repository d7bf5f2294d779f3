import XCTest
import PipelineEngine
@testable import Connectivity

/// The qc stage's rules on its rows: each run over a threshold is excluded with its value, and a
/// rule that cannot be applied to some runs stops the stage once, naming every such run.
final class QCRulesTests: XCTestCase {
    private func row(_ subject: String, meanFD: Double?, coverage: Double? = 0.9) -> QCKind.Row {
        QCKind.Row(scope: .scan(subject: subject, session: "baseline", run: nil),
                   quality: ScanQuality(meanFD: meanFD, volumes: 100, keptVolumes: 90, censoredVolumes: 10, censoredFraction: 0.1,
                                        residualDegreesOfFreedom: 60),
                   minSeedCoverage: coverage)
    }

    private func rules(maxMeanFD: Double? = nil, minSeedCoverage: Double? = nil) -> QCKind.Parameters {
        QCKind.Parameters(maxMeanFD: maxMeanFD, maxCensoredFraction: nil, minKeptVolumes: nil, minSeedCoverage: minSeedCoverage, minDOF: nil)
    }

    func testRunsOverTheThresholdAreExcludedWithTheirValues() throws {
        let rows = [row("01", meanFD: 0.2), row("02", meanFD: 0.61), row("03", meanFD: 0.5)]
        let out = try QCKind.exclusions(rows, rules(maxMeanFD: 0.5))
        XCTAssertEqual(out.map(\.scope.label), ["sub-02_ses-baseline"], "0.5 itself is not above 0.5")
        XCTAssertEqual(out.first?.value, 0.61)
        XCTAssertEqual(out.first?.rule, "max_mean_fd")
    }

    func testARuleWithoutValuesNamesEveryRunOnce() {
        let rows = [row("01", meanFD: 0.2), row("02", meanFD: nil), row("03", meanFD: 0.3), row("04", meanFD: nil)]
        XCTAssertThrowsError(try QCKind.exclusions(rows, rules(maxMeanFD: 0.5))) { error in
            let e = error as? InputError
            XCTAssertEqual(e?.field, "max_mean_fd")
            XCTAssertEqual(e?.message, "is set, but 2 runs have no framewise displacement (no framewise_displacement column with a number, "
                           + "nor the six motion columns, in the confounds): sub-02_ses-baseline, sub-04_ses-baseline")
        }
        // Without the rule the same rows pass, and the coverage rule reads its own value.
        XCTAssertEqual(try QCKind.exclusions(rows, rules()).count, 0)
        let uncovered = [row("01", meanFD: 0.2, coverage: nil)]
        XCTAssertThrowsError(try QCKind.exclusions(uncovered, rules(minSeedCoverage: 0.5))) { error in
            XCTAssertEqual((error as? InputError)?.message, "is set, but the run has no seed coverage recorded by the connectivity stage")
        }
    }
}
