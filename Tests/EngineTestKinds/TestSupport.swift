import Foundation
import PipelineEngine

/// Helpers shared by the test-only stage kinds: number files and instrumentation via env vars.
///
/// - `PIPE_TEST_COUNTER`: a file; every source read appends "<bytes>\n".
/// - `PIPE_TEST_EXEC_LOG`: a file; every task execution appends "<kind> <scope>\n".
/// - `PIPE_TEST_FAIL`: comma-separated scope labels whose `test.scale` tasks fail.
/// - `PIPE_TEST_FAIL_ONCE_DIR`: a folder; `test.scale` fails the first attempt of each scope.
/// - `PIPE_TEST_HANDSHAKE_DIR` and `PIPE_TEST_HANDSHAKE_SCOPE`: `test.read` of that scope creates
///   `<dir>/ready` once it runs, then waits for `<dir>/go` before it reads its source, so a test can
///   act at that exact moment (a deterministic widening of a race).
enum TestSupport {
    static func handshake(_ context: TaskContext) throws {
        let env = ProcessInfo.processInfo.environment
        guard let dir = env["PIPE_TEST_HANDSHAKE_DIR"], env["PIPE_TEST_HANDSHAKE_SCOPE"] == context.scope.label else { return }
        guard FileManager.default.createFile(atPath: dir + "/ready", contents: nil) else {
            throw PipeError(.taskFailed, "handshake: cannot create \(dir)/ready")
        }
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: dir + "/go") {
            guard Date() < deadline else { throw PipeError(.taskFailed, "handshake: no go within 60 s") }
            try context.checkCancellation()
            usleep(2_000)
        }
    }

    static func append(_ line: String, toFileIn variable: String) {
        guard let path = ProcessInfo.processInfo.environment[variable], !path.isEmpty else { return }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    static func recordExecution(_ kind: String, _ context: TaskContext) {
        append("\(kind) \(context.scope.label)", toFileIn: "PIPE_TEST_EXEC_LOG")
    }

    /// Fails a task whose scope `PIPE_TEST_FAIL` lists.
    static func failIfListed(_ context: TaskContext) throws {
        let label = context.scope.label
        if let list = ProcessInfo.processInfo.environment["PIPE_TEST_FAIL"], list.split(separator: ",").contains(Substring(label)) {
            throw PipeError(.taskFailed, "failing on purpose for \(label) (PIPE_TEST_FAIL)")
        }
    }

    static func readSourceCounted(_ context: TaskContext, _ name: String) throws -> [UInt8] {
        let bytes = try context.readSource(name)
        append(String(bytes.count), toFileIn: "PIPE_TEST_COUNTER")
        return bytes
    }

    /// Replaces `{name}` placeholders of `template` with `values` (unknown names are kept).
    static func substitute(_ template: String, _ values: [String: String]) -> String {
        var out = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            out += rest[..<open]
            let name = String(rest[rest.index(after: open)..<close])
            out += values[name] ?? "{\(name)}"
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    static func parseNumbers(_ bytes: [UInt8]) throws -> [Double] {
        try String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "," })
            .map { token in
                guard let v = Double(token) else { throw PipeError(.taskFailed, "not a number: '\(token)'") }
                return v
            }
    }

    static func format(_ values: [Double]) -> [UInt8] {
        Array(values.map { JSONValue.format(number: $0) }.joined(separator: "\n").appending("\n").utf8)
    }

    static func readInput(_ url: URL) throws -> [Double] {
        try parseNumbers(FileSystem.read(url.path))
    }

    /// The only file of the only input (for one-upstream per-scan kinds).
    static func singleInput(_ context: TaskContext) throws -> URL {
        guard let input = context.inputs.first, let url = input.files.values.first, context.inputs.count == 1 else {
            throw PipeError(.taskFailed, "expected exactly one upstream file")
        }
        return url
    }
}
