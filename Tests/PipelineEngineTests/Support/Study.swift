import Foundation
import XCTest

/// A throw-away study folder: data files, a spec, instrumentation files, and helpers to run the tool.
final class Study {
    let root: URL
    var specName = "study.json"
    /// Counter of source bytes read by test kinds (one line per read).
    var counter: URL { root.appendingPathComponent("io-counter.txt") }
    /// Log of task executions (one line per executed task).
    var execLog: URL { root.appendingPathComponent("exec-log.txt") }
    var spec: URL { root.appendingPathComponent("study").appendingPathComponent(specName) }
    var dir: URL { root.appendingPathComponent("study") }

    init(_ name: String = "study") throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-e2e-\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("study/data"), withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    /// Writes a data file `data/<name>` in the study.
    func writeData(_ name: String, _ text: String) throws {
        try text.write(to: dir.appendingPathComponent("data/\(name)"), atomically: false, encoding: .utf8)
    }

    /// Writes `numbers` files for every subject x session.
    func writeScans(subjects: [String], sessions: [String]) throws {
        for (i, s) in subjects.enumerated() {
            for (j, ses) in sessions.enumerated() {
                try writeData("sub-\(s)_ses-\(ses).txt", "\(i + 1) \(j + 2) \(i * 10 + j) 7\n")
            }
        }
    }

    /// Writes the spec text.
    func writeSpec(_ text: String) throws {
        try text.write(to: spec, atomically: false, encoding: .utf8)
    }

    /// The standard five-stage study over `subjects` x `sessions`.
    func writeStandardSpec(subjects: [String], sessions: [String] = ["1", "2"], factor: Double = 2,
                           clampMax: Double = 1000, extraTop: String = "") throws {
        let subs = subjects.map { "\"\($0)\"" }.joined(separator: ", ")
        let sess = sessions.map { "\"\($0)\"" }.joined(separator: ", ")
        try writeSpec("""
        {
          "pipe": 1,\(extraTop)
          "cohort": {"subjects": [\(subs)], "sessions": [\(sess)]},
          "stages": {
            "raw": {"kind": "test.read", "pattern": "data/sub-{subject}_ses-{session}.txt"},
            "scaled": {"kind": "test.scale", "from": ["raw"], "factor": \(factor)},
            "clamped": {"kind": "test.clamp", "from": ["scaled"], "max": \(clampMax)},
            "subj": {"kind": "test.subject", "from": ["clamped"]},
            "total": {"kind": "test.sum", "from": ["subj"]}
          }
        }
        """)
    }

    var env: [String: String] { ["PIPE_TEST_COUNTER": counter.path, "PIPE_TEST_EXEC_LOG": execLog.path] }

    /// Runs the tool with the study's instrumentation env; `args` may use "$SPEC".
    @discardableResult
    func tool(_ args: String..., env extra: [String: String] = [:], spec: URL? = nil,
              deadline: TimeInterval? = nil, wrapper: [String] = []) throws -> ToolResult {
        var env = self.env
        for (k, v) in extra { env[k] = v }
        return try ToolHarness.run(args.map { $0 == "$SPEC" ? (spec ?? self.spec).path : $0 }, env: env,
                                   deadline: deadline, wrapper: wrapper)
    }

    /// The cache folder (the spec's default).
    var cache: URL { dir.appendingPathComponent("cache") }

    /// Keys of the cache entries of `stage`, by scope label.
    func entries(of stage: String) throws -> [String: String] {
        var out: [String: String] = [:]
        let tasks = cache.appendingPathComponent("tasks")
        for key in try FileManager.default.contentsOfDirectory(atPath: tasks.path) where key.count == 64 {
            let data = try Data(contentsOf: tasks.appendingPathComponent("\(key)/manifest.json"))
            let m = try JSONSerialization.jsonObject(with: data) as! [String: Any]
            let task = m["task"] as! [String: Any]
            guard task["stage"] as? String == stage else { continue }
            let scope = task["scope"] as! [String: Any]
            var label = (scope["subject"] as? String).map { "sub-\($0)" } ?? "group"
            if let ses = scope["session"] as? String { label += "_ses-\(ses)" }
            if let run = scope["run"] as? String { label += "_run-\(run)" }
            out[label] = key
        }
        return out
    }

    /// Overwrites bytes of a cache or output file in place (as root, or after chmod u+w, could),
    /// optionally restoring its modification time afterwards.
    func tamper(_ path: String, with text: String, keepModificationTime: Bool = false) throws {
        var before = stat()
        XCTAssertEqual(stat(path, &before), 0)
        chmod(path, 0o644)
        let fd = open(path, O_WRONLY)
        XCTAssertGreaterThanOrEqual(fd, 0, "cannot open \(path)")
        let bytes = Array(text.utf8)
        XCTAssertEqual(bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }, bytes.count)
        close(fd)
        chmod(path, 0o444)
        if keepModificationTime {
            var times = [before.st_atim, before.st_mtim]
            XCTAssertEqual(utimensat(AT_FDCWD, path, &times, 0), 0)
        }
    }

    /// Runs and asserts exit 0.
    @discardableResult
    func runOK(_ args: String..., env extra: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) throws -> ToolResult {
        var env = self.env
        for (k, v) in extra { env[k] = v }
        let r = try ToolHarness.run(["run", spec.path, "--quiet"] + args, env: env)
        XCTAssertEqual(r.status, 0, "run failed: \(r.stderr)", file: file, line: line)
        return r
    }

    /// Lines of the execution log ("<kind> <scope>"), then clears it.
    func takeExecutions() -> [String] {
        let text = (try? String(contentsOf: execLog, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: execLog)
        return text.split(separator: "\n").map(String.init).sorted()
    }

    /// Total source bytes read by test kinds, then clears the counter.
    func takeBytesRead() -> Int {
        let text = (try? String(contentsOf: counter, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: counter)
        return text.split(separator: "\n").compactMap { Int($0) }.reduce(0, +)
    }

    /// The last run's summary from the journal ("run-finished" line).
    func lastRunSummary(cache: URL? = nil) throws -> [String: Any] {
        let journal = (cache ?? dir.appendingPathComponent("cache")).appendingPathComponent("journal")
        let names = try FileManager.default.contentsOfDirectory(atPath: journal.path).filter { $0.hasSuffix(".jsonl") }.sorted()
        let text = try String(contentsOf: journal.appendingPathComponent(names.last!), encoding: .utf8)
        for line in text.split(separator: "\n").reversed() {
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            if o["event"] as? String == "run-finished" { return o }
        }
        XCTFail("no run-finished event in \(names.last!)")
        return [:]
    }

    /// Every published output file (relative path -> bytes), without `dataset_description.json`
    /// and `methods.md` (provenance: they name the `--set` overrides of the run that wrote them).
    func outputs(in folder: URL? = nil) throws -> [String: Data] {
        let out = folder ?? dir.appendingPathComponent("out")
        var result: [String: Data] = [:]
        guard let e = FileManager.default.enumerator(atPath: out.path) else { return [:] }
        while let rel = e.nextObject() as? String {
            if rel == "dataset_description.json" || rel == "methods.md" { continue }
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: out.appendingPathComponent(rel).path, isDirectory: &isDir)
            if !isDir.boolValue { result[rel] = try Data(contentsOf: out.appendingPathComponent(rel)) }
        }
        return result
    }
}
