import Foundation
import XCTest

/// End-to-end: hostile files and numbers give clear errors, never a hang or a crash (issue 12,
/// defects 6-9 and 16).
final class HostileInputTests: XCTestCase {
    func makeStudy(_ name: String) throws -> Study {
        let s = try Study(name)
        try s.writeScans(subjects: ["01", "02"], sessions: ["1"])
        try s.writeStandardSpec(subjects: ["01", "02"], sessions: ["1"])
        return s
    }

    func testFIFOsDevicesAndSymlinkLoopsAreRefusedPromptly() throws {
        let s = try makeStudy("fifo")
        let fifo = s.dir.appendingPathComponent("data/sub-01_ses-1.txt")
        try FileManager.default.removeItem(at: fifo)
        XCTAssertEqual(mkfifo(fifo.path, 0o644), 0)
        let device = s.dir.appendingPathComponent("data/sub-02_ses-1.txt")
        try FileManager.default.removeItem(at: device)
        try FileManager.default.createSymbolicLink(atPath: device.path, withDestinationPath: "/dev/zero")
        for command in ["validate", "plan", "run"] {
            let r = try s.tool(command, "$SPEC", deadline: 30)
            XCTAssertFalse(r.timedOut, "\(command) hung")
            XCTAssertEqual(r.status, 2, "\(command): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("source data/sub-01_ses-1.txt is a FIFO, not a regular file"), r.stderr)
            XCTAssertTrue(r.stderr.contains("source data/sub-02_ses-1.txt is a device, not a regular file"), r.stderr)
        }
        // A symlink loop is named as one, not as a missing file.
        try FileManager.default.removeItem(at: device)
        try FileManager.default.createSymbolicLink(atPath: device.path, withDestinationPath: device.path)
        let loop = try s.tool("validate", "$SPEC", deadline: 30)
        XCTAssertTrue(loop.stderr.contains("source data/sub-02_ses-1.txt is a symlink loop"), loop.stderr)
        // A symlink to nothing (a DataLad file not fetched) is named as that.
        try FileManager.default.removeItem(at: device)
        try FileManager.default.createSymbolicLink(atPath: device.path, withDestinationPath: "../.git/annex/objects/xx/SHA256E-s1--ab.txt")
        let dangling = try s.tool("validate", "$SPEC", deadline: 30)
        XCTAssertTrue(dangling.stderr.contains("source data/sub-02_ses-1.txt is a symlink to ../.git/annex/objects/xx/SHA256E-s1--ab.txt, which does not exist "
                                               + "(a DataLad or git-annex file not fetched? datalad get it)"), dangling.stderr)

        // A spec that is a device, a FIFO, or too large.
        let zero = try s.tool("validate", "/dev/zero", deadline: 30)
        XCTAssertFalse(zero.timedOut)
        XCTAssertEqual(zero.status, 2)
        XCTAssertTrue(zero.stderr.contains("/dev/zero is a device, not a regular file"), zero.stderr)
        let specFifo = s.root.appendingPathComponent("spec-fifo.json")
        XCTAssertEqual(mkfifo(specFifo.path, 0o644), 0)
        let fromFifo = try s.tool("validate", specFifo.path, deadline: 30)
        XCTAssertFalse(fromFifo.timedOut)
        XCTAssertEqual(fromFifo.status, 2)
        XCTAssertTrue(fromFifo.stderr.contains("is a FIFO, not a regular file"), fromFifo.stderr)
        let huge = s.root.appendingPathComponent("huge.json")
        XCTAssertTrue(FileManager.default.createFile(atPath: huge.path, contents: nil))
        XCTAssertEqual(truncate(huge.path, 65 << 20), 0)   // sparse: no disk used
        let big = try s.tool("validate", huge.path, deadline: 30)
        XCTAssertEqual(big.status, 2)
        XCTAssertTrue(big.stderr.contains("more than the 64 MiB allowed"), big.stderr)
    }

    func testOutOfRangeNumbersFromTheSpecAndCommandLineExitTwo() throws {
        let s = try makeStudy("numbers")
        let memory = try s.tool("validate", "$SPEC", "--set", "stages.raw.memory=1e300")
        XCTAssertEqual(memory.status, 2, memory.stderr)
        XCTAssertTrue(memory.stderr.contains("stages.raw.memory: expected a number of MiB in 1...1073741824, got number 1e+300"), memory.stderr)
        for value in ["1e30", "inf", "nan", "-1G", "0"] {
            let r = try s.tool("run", "$SPEC", "--memory=\(value)")
            XCTAssertEqual(r.status, 2, "\(value): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("--memory: expected a size"), r.stderr)
        }
    }

    func testOutOfRangeNumbersInCacheFilesAreCorruptionNotCrashes() throws {
        let s = try makeStudy("cachenumbers")
        try s.runOK()
        let key = try s.entries(of: "raw")["sub-01_ses-1"]!
        let manifest = s.cache.appendingPathComponent("tasks/\(key)/manifest.json")
        let text = try String(contentsOf: manifest, encoding: .utf8)
        let edited = text.replacingOccurrences(of: #""peakRSS": \d+"#, with: "\"peakRSS\": -1", options: .regularExpression)
        XCTAssertNotEqual(edited, text)
        chmod(manifest.path, 0o644)
        try edited.write(to: manifest, atomically: false, encoding: .utf8)
        let ls = try s.tool("cache", "ls", "$SPEC")
        XCTAssertEqual(ls.status, 0, ls.stderr)
        XCTAssertFalse(ls.stdout.contains(String(key.prefix(16))), "a corrupt entry is not listed")
        // A bad journal line and an absurd lock pid.
        let journal = s.cache.appendingPathComponent("journal")
        let last = try FileManager.default.contentsOfDirectory(atPath: journal.path).sorted().last!
        let handle = try FileHandle(forWritingTo: journal.appendingPathComponent(last))
        try handle.seekToEnd()
        handle.write(Data("{\"event\":\"run-finished\",\"peakRSS\":-1e300,\"seconds\":1e400,\"failed\":3e9}\n{\"event\":\"run-started\",\"stages\":[{\"name\":\"x\",\"tasks\":1e300}]}\n".utf8))
        try handle.close()
        let status = try s.tool("status", "$SPEC")
        XCTAssertEqual(status.status, 0, status.stderr)
        try "{\"pid\":3e9,\"host\":\"h\",\"boot_id\":\"b\",\"started\":\"x\"}\n".write(to: s.cache.appendingPathComponent("lock"), atomically: false, encoding: .utf8)
        let verify = try s.tool("cache", "verify", "$SPEC")
        XCTAssertFalse(verify.signalled, verify.stderr)
        XCTAssertEqual(verify.status, 1, verify.stdout + verify.stderr)
        XCTAssertTrue(verify.stdout.contains("removed corrupt entry \(key.prefix(16)): missing or unreadable manifest"), verify.stdout)
        let r = try s.tool("run", "$SPEC", "--quiet")
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    func testMaintenanceCommandsReadTheSpecWithItsOverrides() throws {
        let s = try makeStudy("set")
        try s.runOK("--set", "stages.scaled.factor=3", "--set", "cache=cache3")
        let cache3 = s.dir.appendingPathComponent("cache3")
        XCTAssertTrue(FileManager.default.fileExists(atPath: cache3.appendingPathComponent("tasks").path))
        let status = try s.tool("status", "$SPEC", "--set", "cache=cache3")
        XCTAssertEqual(status.status, 0, status.stderr)
        XCTAssertTrue(status.stdout.contains("9 tasks: 9 ran"), status.stdout)
        let gc = try s.tool("cache", "gc", "$SPEC", "--set", "stages.scaled.factor=3", "--set", "cache=cache3")
        XCTAssertEqual(gc.status, 0, gc.stderr)
        XCTAssertTrue(gc.stdout.contains("kept 9 entries; removed 0 entries"), gc.stdout)
        let verify = try s.tool("cache", "verify", "$SPEC", "--set", "cache=cache3")
        XCTAssertEqual(verify.status, 0, verify.stdout + verify.stderr)
        XCTAssertTrue(verify.stdout.contains("verified 9 entries: 9 ok"), verify.stdout)
        for command in [["cache", "ls"], ["cache", "du"]] {
            let r = try ToolHarness.run(command + [s.spec.path, "--set", "cache=cache3"], env: s.env)
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        // Without the override, gc plans factor 2 and keeps only what that shares (the reads).
        let plain = try s.tool("cache", "gc", "$SPEC", "--set", "cache=cache3")
        XCTAssertTrue(plain.stdout.contains("kept 2 entries; removed 7 entries"), plain.stdout)
    }
}
