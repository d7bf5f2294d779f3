import Foundation
import XCTest

/// End-to-end: a cohort's participants table reads the same whatever its line ends, and a
/// subject, session or run given twice is a spec error (exit 2) at the second mention.
final class CohortTableTests: XCTestCase {
    var study: Study!

    override func setUpWithError() throws {
        study = try Study("cohort-table")
        try study.writeScans(subjects: ["01", "02", "03", "04"], sessions: ["1"])
    }

    override func tearDown() {
        study = nil
    }

    func spec(_ cohort: String) -> String {
        """
        {"pipe": 1,
         "cohort": {\(cohort)},
         "stages": {"raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt"},
                    "total": {"kind": "test.sum", "from": ["raw"]}}}
        """
    }

    /// Writes `participants.tsv` as raw bytes: `lines` joined by `newline`, after `prefix`.
    func writeTable(_ lines: [String], newline: String, prefix: [UInt8] = []) throws {
        let text = lines.map { $0 + newline }.joined()
        try Data(prefix + Array(text.utf8)).write(to: study.dir.appendingPathComponent("participants.tsv"))
    }

    func testCRLFAndByteOrderMarkTablesSelectTheSameSubjectsAsLF() throws {
        try study.writeSpec(spec("\"participants\": \"participants.tsv\", \"include\": {\"group\": [\"anxious\"]}, \"sessions\": [\"1\"]"))
        let lines = ["participant_id\tgroup\tage", "sub-01\tanxious\t30", "sub-02\tcontrol\t31", "sub-03\tanxious\t32", "sub-04\tcontrol\tn/a"]
        try writeTable(lines, newline: "\n")
        let reference = try study.tool("plan", "$SPEC")
        XCTAssertEqual(reference.status, 0, reference.stderr)
        XCTAssertTrue(reference.stdout.contains("raw    sub-01_ses-1") && reference.stdout.contains("raw    sub-03_ses-1"), reference.stdout)
        XCTAssertFalse(reference.stdout.contains("sub-02") || reference.stdout.contains("sub-04"), reference.stdout)
        for (newline, prefix) in [("\r\n", []), ("\r\n", [0xEF, 0xBB, 0xBF]), ("\n", [0xEF, 0xBB, 0xBF]), ("\r", [])] as [(String, [UInt8])] {
            try writeTable(lines + ["", ""], newline: newline, prefix: prefix)
            let plan = try study.tool("plan", "$SPEC")
            XCTAssertEqual(plan.status, 0, "\(newline.debugDescription) \(prefix): \(plan.stderr)")
            XCTAssertEqual(plan.stdout, reference.stdout, "\(newline.debugDescription) \(prefix)")
        }
        // The same tasks run (and the table's id column is found by the exclude filter too).
        try writeTable(lines, newline: "\r\n", prefix: [0xEF, 0xBB, 0xBF])
        try study.writeSpec(spec("\"participants\": \"participants.tsv\", \"exclude\": {\"participant_id\": [\"sub-02\", \"04\"]}, \"sessions\": [\"1\"]"))
        try study.runOK()
        XCTAssertEqual(study.takeExecutions(), ["test.read sub-01_ses-1", "test.read sub-03_ses-1", "test.sum group"])
    }

    func testATableRowWithTooFewCellsIsNamedByItsLineInTheFile() throws {
        try study.writeSpec(spec("\"participants\": \"participants.tsv\", \"id\": \"pid\", \"sessions\": [\"1\"]"))
        try writeTable(["group\tpid", "anxious\t01", "", "control"], newline: "\r\n")
        let r = try study.tool("validate", "$SPEC")
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("cohort.participants: participants.tsv:4: expected 2 columns, got 1"), r.stderr)
    }

    func testDuplicateSessionsAndRunsAreRefusedAtTheItem() throws {
        try study.writeSpec(spec("\"subjects\": [\"01\", \"02\"], \"sessions\": [\"1\", \"ses-1\"], \"runs\": [\"1\", \"2\", \"1\"]"))
        let r = try study.tool("validate", "$SPEC")
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("study.json:2:57 cohort.sessions[1]: a session is listed twice: ses-1 (first at cohort.sessions[0])"), r.stderr)
        XCTAssertTrue(r.stderr.contains("study.json:2:86 cohort.runs[2]: a run is listed twice: run-1 (first at cohort.runs[0])"), r.stderr)
        try study.writeSpec(spec("\"subjects\": [\"01\", \"sub-01\"], \"sessions\": [1, 1]"))
        let s = try study.tool("validate", "$SPEC")
        XCTAssertEqual(s.status, 2, s.stderr)
        XCTAssertTrue(s.stderr.contains("study.json:2:32 cohort.subjects[1]: a subject is listed twice: sub-01 (first at cohort.subjects[0])"), s.stderr)
        XCTAssertTrue(s.stderr.contains("study.json:2:59 cohort.sessions[1]: a session is listed twice: ses-1 (first at cohort.sessions[0])"), s.stderr)
    }

    func testASubjectOnTwoTableRowsIsRefused() throws {
        try study.writeSpec(spec("\"participants\": \"participants.tsv\", \"include\": {\"group\": [\"anxious\"]}, \"sessions\": [\"1\"]"))
        // Twice even when the second row is filtered out: the table is ambiguous.
        try writeTable(["participant_id\tgroup", "sub-01\tanxious", "sub-02\tanxious", "01\tcontrol"], newline: "\r\n")
        let r = try study.tool("validate", "$SPEC")
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("study.json:2:29 cohort.participants: participants.tsv:4: a subject is listed twice: sub-01 (first on line 2)"), r.stderr)
    }
}
