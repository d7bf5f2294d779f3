import Foundation
import XCTest

/// End-to-end: malformed specs are refused with exit code 2 and `file:line:col path: message`.
final class SpecErrorTests: XCTestCase {
    var study: Study!

    override func setUpWithError() throws {
        study = try Study("spec")
        try study.writeScans(subjects: ["01", "02"], sessions: ["1"])
    }

    override func tearDown() {
        study = nil   // XCTest keeps test case instances alive: release the folder now.
    }

    /// Validates `spec` (plus `extra` arguments) and returns stderr, asserting exit code 2.
    func refuse(_ spec: String, _ extra: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try study.writeSpec(spec)
        let r = try ToolHarness.run(["validate", study.spec.path] + extra)
        XCTAssertEqual(r.status, 2, "expected exit 2, got \(r.status): \(r.stdout) \(r.stderr)", file: file, line: line)
        return r.stderr
    }

    let good = """
    {
      "pipe": 1,
      "cohort": {"subjects": ["01", "02"], "sessions": ["1"]},
      "stages": {
        "raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt"},
        "clean": {"kind": "test.scale", "from": ["raw"], "factor": 2, "band": [0.01, 0.1]},
        "total": {"kind": "test.sum", "from": ["clean"]}
      }
    }
    """

    func testGoodSpecValidates() throws {
        try study.writeSpec(good)
        let r = try ToolHarness.run(["validate", study.spec.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("study.json: ok: 3 stages, 5 tasks"), r.stdout)
    }

    /// The slurm block and the engine keys `threads` and `keep`: each mistake at its line, by path.
    func testSlurmBlockThreadsAndKeepMistakes() throws {
        let err = try refuse("""
        {
          "pipe": 1,
          "cohort": {"subjects": ["01", "02"], "sessions": ["1"]},
          "slurm": {"partition": "", "time": "2 hours", "sbatch": ["constraint=avx2"], "throttle": 0, "memmory": 4},
          "stages": {
            "raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt", "threads": 0},
            "total": {"kind": "test.sum", "from": ["raw"], "keep": "no"}
          }
        }
        """)
        for needle in ["study.json:4:", "slurm.partition: expected a non-empty string", "slurm.time: expected minutes",
                       "slurm.sbatch: expected sbatch options", "slurm.throttle: expected a whole number in 1...1000000",
                       "slurm.memmory: unknown key", "stages.raw.threads: expected a whole number of CPUs in 1...1024",
                       "stages.total.keep: expected true or false"] {
            XCTAssertTrue(err.contains(needle), "missing \(needle) in:\n\(err)")
        }
        // A valid block passes, and --set starts one when the spec has none.
        try study.writeSpec(good)
        let ok = try ToolHarness.run(["validate", study.spec.path, "--set", "slurm.time=1-12:00:00", "--set", "slurm.throttle=50"])
        XCTAssertEqual(ok.status, 0, ok.stderr)
    }

    func testBadJSON() throws {
        let err = try refuse(good.replacingOccurrences(of: "\"factor\": 2,", with: "\"factor\": 2,,"))
        XCTAssertTrue(err.contains("study.json:6:66 invalid JSON: unexpected ',', expected a quoted key"), err)
    }

    func testUnknownKeyWithDidYouMean() throws {
        let err = try refuse(good.replacingOccurrences(of: "\"factor\": 2", with: "\"facter\": 2"))
        XCTAssertTrue(err.contains("study.json:6:54 stages.clean.facter: unknown key (did you mean 'factor'?)"), err)
        let top = try refuse(good.replacingOccurrences(of: "\"cohort\"", with: "\"cohrt\""))
        XCTAssertTrue(top.contains("study.json:3:3 cohrt: unknown key (did you mean 'cohort'?)"), top)
        // Nothing close: the keys that are there.
        let far = try refuse(good.replacingOccurrences(of: "\"factor\": 2", with: "\"multiplier\": 2"))
        XCTAssertTrue(far.contains("stages.clean.multiplier: unknown key; the keys here: "), far)
        XCTAssertTrue(far.contains(", factor, ") && far.contains(", from, "), far)
    }

    func testWrongType() throws {
        let err = try refuse(good.replacingOccurrences(of: "\"band\": [0.01, 0.1]", with: "\"band\": [0.01]"))
        XCTAssertTrue(err.contains("study.json:6:75 stages.clean.band: expected two numbers, got 1"), err)
        let err2 = try refuse(good.replacingOccurrences(of: "\"factor\": 2", with: "\"factor\": \"two\""))
        XCTAssertTrue(err2.contains("study.json:6:64 stages.clean.factor: expected a number, got string \"two\""), err2)
    }

    func testCycle() throws {
        let err = try refuse(good.replacingOccurrences(of: "\"raw\": {\"kind\": \"test.read\", \"pattern\": \"data/sub-{subject}_ses-{session}.txt\"}",
                                                      with: "\"raw\": {\"kind\": \"test.scale\", \"from\": [\"total\"]}"))
        XCTAssertTrue(err.contains("stages.raw.from: cycle between stages: raw -> clean -> total -> raw"), err)
        XCTAssertTrue(err.contains("study.json:5:5 "), err)
    }

    func testDanglingReference() throws {
        let err = try refuse(good.replacingOccurrences(of: "\"from\": [\"raw\"]", with: "\"from\": [\"rwa\"]"))
        XCTAssertTrue(err.contains("study.json:6:46 stages.clean.from[0]: unknown stage 'rwa' (did you mean 'raw'?)"), err)
    }

    func testUnknownKind() throws {
        let err = try refuse(good.replacingOccurrences(of: "\"test.scale\"", with: "\"test.scael\""))
        XCTAssertTrue(err.contains("study.json:6:23 stages.clean.kind: unknown kind 'test.scael' (did you mean 'test.scale'?)"), err)
    }

    func testBadSet() throws {
        let err = try refuse(good, ["--set", "stages.clen.factor=3"])
        XCTAssertTrue(err.contains("--set stages.clen.factor=3: no key 'clen' in stages (did you mean 'clean'?)"), err)
        let noEq = try refuse(good, ["--set", "stages.clean.factor"])
        XCTAssertTrue(noEq.contains("expected path=value"), noEq)
        // A well-formed --set whose value has the wrong type is reported with the --set as location.
        let typed = try refuse(good, ["--set", "stages.clean.factor=abc"])
        XCTAssertTrue(typed.contains("--set stages.clean.factor=abc stages.clean.factor: expected a number, got string \"abc\""), typed)
    }

    func testUnsupportedVersionAndMissingSource() throws {
        let v = try refuse(good.replacingOccurrences(of: "\"pipe\": 1", with: "\"pipe\": 2"))
        XCTAssertTrue(v.contains("study.json:2:11 pipe: unsupported spec version 2; this pipe reads version 1"), v)
        try FileManager.default.removeItem(at: study.dir.appendingPathComponent("data/sub-02_ses-1.txt"))
        let missing = try refuse(good)
        XCTAssertTrue(missing.contains("stages.raw: sub-02_ses-1: source file not found: data/sub-02_ses-1.txt"), missing)
    }

    func testUsageErrorsExit2() throws {
        let r = try ToolHarness.run(["run", "--jobs", "0", "x.json"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("--jobs must be at least 1"), r.stderr)
        let help = try ToolHarness.run(["--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("plan"), help.stdout)
    }
}
