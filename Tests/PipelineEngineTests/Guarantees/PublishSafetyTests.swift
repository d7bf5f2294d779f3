import Foundation
import XCTest

/// End-to-end: pipe never deletes or replaces a file it did not publish, and refuses output
/// folders where publishing could harm anything (issue 12, defects 1, 2 and 15).
final class PublishSafetyTests: XCTestCase {
    func makeStudy(_ name: String, outputs: String = "results") throws -> Study {
        let s = try Study(name)
        try s.writeScans(subjects: ["01", "02"], sessions: ["1"])
        try s.writeStandardSpec(subjects: ["01", "02"], sessions: ["1"], extraTop: " \"outputs\": \"\(outputs)\",")
        return s
    }

    func testUserFilesInAStageFolderAreNeverDeletedOrReplaced() throws {
        let s = try makeStudy("userfiles")
        // A user folder named like a stage, with the user's notes and a file named like an output.
        let raw = s.dir.appendingPathComponent("results/raw")
        try FileManager.default.createDirectory(at: raw, withIntermediateDirectories: true)
        try "my notes".write(to: raw.appendingPathComponent("notes.txt"), atomically: false, encoding: .utf8)
        try "mine".write(to: raw.appendingPathComponent("sub-01_ses-1.txt"), atomically: false, encoding: .utf8)
        try FileManager.default.createDirectory(at: raw.appendingPathComponent("figures"), withIntermediateDirectories: true)

        let clash = try s.tool("run", "$SPEC", "--quiet")
        XCTAssertEqual(clash.status, 1, clash.stderr)
        XCTAssertTrue(clash.stderr.contains("results/raw/sub-01_ses-1.txt exists and was not published by pipe"), clash.stderr)
        XCTAssertEqual(try String(contentsOf: raw.appendingPathComponent("sub-01_ses-1.txt"), encoding: .utf8), "mine")
        XCTAssertEqual(try String(contentsOf: raw.appendingPathComponent("notes.txt"), encoding: .utf8), "my notes")

        // The user moves their file away: the run publishes, and the rest of the folder stays.
        try FileManager.default.removeItem(at: raw.appendingPathComponent("sub-01_ses-1.txt"))
        try s.runOK()
        XCTAssertEqual(try String(contentsOf: raw.appendingPathComponent("sub-01_ses-1.txt"), encoding: .utf8), "1\n2\n0\n7\n")
        XCTAssertEqual(try String(contentsOf: raw.appendingPathComponent("notes.txt"), encoding: .utf8), "my notes")
        XCTAssertTrue(FileManager.default.fileExists(atPath: raw.appendingPathComponent("figures").path))

        // A smaller cohort: pipe removes what it published for sub-02, and only that.
        try s.writeStandardSpec(subjects: ["01"], sessions: ["1"], extraTop: " \"outputs\": \"results\",")
        try s.runOK()
        let names = try FileManager.default.contentsOfDirectory(atPath: raw.path).sorted()
        XCTAssertEqual(names, ["figures", "notes.txt", "sub-01_ses-1.txt"])

        // A published file the user replaced by their own (a new file): never overwritten.
        let scaled = s.dir.appendingPathComponent("results/scaled/sub-01_ses-1.txt")
        try FileManager.default.removeItem(at: scaled)
        try "edited by hand".write(to: scaled, atomically: false, encoding: .utf8)
        try s.writeStandardSpec(subjects: ["01"], sessions: ["1"], factor: 3, extraTop: " \"outputs\": \"results\",")
        let replaced = try s.tool("run", "$SPEC", "--quiet")
        XCTAssertEqual(replaced.status, 1)
        XCTAssertTrue(replaced.stderr.contains("scaled/sub-01_ses-1.txt exists and was not published by pipe"), replaced.stderr)
        XCTAssertEqual(try String(contentsOf: scaled, encoding: .utf8), "edited by hand")
    }

    func testOutputFoldersThatAreRootHomeOrAFileSystemRootAreRefused() throws {
        let s = try makeStudy("roots")
        var cases = ["/": "the root folder", "~HOME": "the home folder"]
        if FileManager.default.fileExists(atPath: "/dev/shm") { cases["/dev/shm"] = "the root of a file system" }
        for (folder, words) in cases {
            let path = folder == "~HOME" ? NSHomeDirectory() : folder
            let r = try s.tool("validate", "$SPEC", "--set", "outputs=\(path)", "--cache-dir", s.cache.path)
            XCTAssertEqual(r.status, 2, "\(folder): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("outputs: ") && r.stderr.contains(words), "\(folder): \(r.stderr)")
        }
    }

    func testOutputsOverlappingTheCacheOrTheInputsAreRefusedBeforeAnythingRuns() throws {
        let s = try makeStudy("overlap")
        try s.runOK()
        _ = s.takeExecutions()
        let entries = try FileManager.default.contentsOfDirectory(atPath: s.cache.appendingPathComponent("tasks").path)
        XCTAssertEqual(entries.count, 9)
        // The attack: outputs set to the cache and a stage named "tasks".
        for (overrides, words) in [
            (["outputs=cache"], "is also the cache folder"),
            (["outputs=cache/tmp"], "is inside the cache folder"),
            (["outputs=.", "cache=cache"], "is inside the output folder"),
        ] {
            for command in ["validate", "run"] {
                var args = [command, s.spec.path]
                for o in overrides { args += ["--set", o] }
                let r = try ToolHarness.run(args, env: s.env)
                XCTAssertEqual(r.status, 2, "\(overrides) \(command): \(r.stderr)")
                XCTAssertTrue(r.stderr.contains(words), "\(overrides): \(r.stderr)")
            }
        }
        let withCacheDir = try s.tool("run", "$SPEC", "--cache-dir", s.dir.appendingPathComponent("results/c").path)
        XCTAssertEqual(withCacheDir.status, 2)
        XCTAssertTrue(withCacheDir.stderr.contains("the cache folder given with --cache-dir"), withCacheDir.stderr)
        // Outputs that would hold the study's own inputs.
        let inputs = try s.tool("validate", "$SPEC", "--set", "outputs=data", "--cache-dir", s.cache.path)
        XCTAssertEqual(inputs.status, 2, inputs.stderr)
        XCTAssertTrue(inputs.stderr.contains("source data/sub-01_ses-1.txt is inside the output folder"), inputs.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: s.cache.appendingPathComponent("tasks").path).count, 9,
                       "no entry was lost")
        XCTAssertEqual(s.takeExecutions(), [])
    }

    func testAFailedPublishCopyLeavesNoTemporaryFile() throws {
        // Outputs on another file system than the cache, so publishing copies; a file-size limit
        // makes the copy fail part way, as a full disk would.
        let shm = URL(fileURLWithPath: "/dev/shm")
        guard FileManager.default.fileExists(atPath: shm.path) else { throw XCTSkip("no /dev/shm") }
        let s = try Study("copyfail")
        try s.writeScans(subjects: ["01"], sessions: ["1"])
        let big = (0..<20_000).map { String($0) }.joined(separator: " ")   // about 110 kB per output
        try s.writeData("sub-01_ses-1.txt", big)
        let outputs = shm.appendingPathComponent("pipe-copyfail-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: outputs) }
        try s.writeStandardSpec(subjects: ["01"], sessions: ["1"], extraTop: " \"outputs\": \"\(outputs.path)\",")
        // First the cache is filled (publishing off), then a limited run only publishes.
        try s.runOK("--set", "stages.raw.publish=false", "--set", "stages.scaled.publish=false",
                    "--set", "stages.clamped.publish=false", "--set", "stages.subj.publish=false", "--set", "stages.total.publish=false")
        let limited = try s.tool("run", "$SPEC", "--quiet", wrapper: ["/usr/bin/prlimit", "--fsize=60000"])
        XCTAssertEqual(limited.status, 1, limited.stderr)
        XCTAssertFalse(limited.signalled, "a file-size limit must not kill pipe")
        XCTAssertTrue(limited.stderr.contains("cannot write"), limited.stderr)
        let leftovers = FileManager.default.enumerator(atPath: outputs.path)!.compactMap { $0 as? String }.filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [])
        // A temporary left by a dead process (a kill mid-copy) is removed by the next run.
        let dead = Process()
        dead.executableURL = URL(fileURLWithPath: "/bin/true")
        try dead.run()
        dead.waitUntilExit()
        let stale = outputs.appendingPathComponent("raw/sub-01_ses-1.txt.tmp-\(dead.processIdentifier)-12345")
        try "partial".write(to: stale, atomically: false, encoding: .utf8)
        // Also at the folder's root, beside the files pipe writes there (a kill mid-write).
        let staleRoot = outputs.appendingPathComponent("dataset_description.json.tmp-\(dead.processIdentifier)-7")
        try "{".write(to: staleRoot, atomically: false, encoding: .utf8)
        let users = outputs.appendingPathComponent("notes.txt.tmp-\(dead.processIdentifier)-7")
        try "mine".write(to: users, atomically: false, encoding: .utf8)
        try s.runOK()
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale.path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: staleRoot.path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: users.path), "a name pipe does not write at the root is left alone")
        XCTAssertEqual(try String(contentsOf: outputs.appendingPathComponent("raw/sub-01_ses-1.txt"), encoding: .utf8).count,
                       big.count + 1)
    }

    func testASensitivityRunPublishesElsewhereSharingTheCache() throws {
        let s = try makeStudy("sensitivity")
        try s.runOK()
        let main = try s.outputs(in: s.dir.appendingPathComponent("results"))
        _ = s.takeExecutions()
        let other = s.root.appendingPathComponent("factor3")
        let r = try s.tool("run", "$SPEC", "--quiet", "--outputs", other.path, "--set", "stages.scaled.factor=3")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(s.takeExecutions().filter { $0.hasPrefix("test.read") }, [], "the shared tasks are cached")
        XCTAssertEqual(try s.outputs(in: s.dir.appendingPathComponent("results")), main, "the main results are untouched")
        XCTAssertEqual(try String(contentsOf: other.appendingPathComponent("scaled/sub-01_ses-1.txt"), encoding: .utf8), "3\n6\n0\n21\n")
        XCTAssertEqual(try String(contentsOf: other.appendingPathComponent("raw/sub-01_ses-1.txt"), encoding: .utf8), "1\n2\n0\n7\n")
    }
}
