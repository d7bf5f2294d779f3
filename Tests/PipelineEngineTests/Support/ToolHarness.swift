import Foundation
import XCTest

/// Runs the built `pipe-testtool` binary (the real CLI with test-only stage kinds) as a child process.
enum ToolHarness {
    /// The test tool next to the test bundle (`.build/<config>/pipe-testtool`), or in the package's
    /// `.build/debug` as a fallback.
    static let executable: URL = {
        var candidates: [URL] = []
        for b in Bundle.allBundles {
            candidates.append(b.bundleURL.deletingLastPathComponent().appendingPathComponent("pipe-testtool"))
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug/pipe-testtool"))
        for c in candidates where FileManager.default.isExecutableFile(atPath: c.path) { return c }
        return candidates.last!
    }()

    /// Starts the tool without waiting.
    /// - Parameter wrapper: a command that runs the tool (e.g. `["/usr/bin/prlimit", "--fsize=1000"]`).
    static func start(_ args: [String], env: [String: String] = [:], cwd: URL? = nil,
                      stdout: URL? = nil, stderr: URL? = nil, wrapper: [String] = []) throws -> Process {
        let p = Process()
        if let first = wrapper.first {
            p.executableURL = URL(fileURLWithPath: first)
            p.arguments = Array(wrapper.dropFirst()) + [executable.path] + args
        } else {
            p.executableURL = executable
            p.arguments = args
        }
        var e = ProcessInfo.processInfo.environment
        for (k, v) in env { e[k] = v }
        p.environment = e
        if let cwd { p.currentDirectoryURL = cwd }
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = try stdout.map(openForWriting) ?? FileHandle.nullDevice
        p.standardError = try stderr.map(openForWriting) ?? FileHandle.nullDevice
        try p.run()
        return p
    }

    private static func openForWriting(_ url: URL) throws -> FileHandle {
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        return try FileHandle(forWritingTo: url)
    }

    /// Runs the tool to completion, capturing output through files (no pipe deadlocks).
    /// - Parameter deadline: seconds after which the tool is killed (SIGKILL) and the result
    ///   marked as timed out; for attacks whose failure mode is a hang.
    @discardableResult
    static func run(_ args: [String], env: [String: String] = [:], cwd: URL? = nil,
                    deadline: TimeInterval? = nil, wrapper: [String] = []) throws -> ToolResult {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-tool-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out"), err = dir.appendingPathComponent("err")
        let p = try start(args, env: env, cwd: cwd, stdout: out, stderr: err, wrapper: wrapper)
        var timedOut = false
        if let deadline {
            let end = Date().addingTimeInterval(deadline)
            while p.isRunning && Date() < end { usleep(5_000) }
            if p.isRunning { timedOut = true; kill(p.processIdentifier, SIGKILL) }
        }
        p.waitUntilExit()
        return ToolResult(status: p.terminationStatus,
                          stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                          stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "",
                          signalled: p.terminationReason == .uncaughtSignal, timedOut: timedOut)
    }
}
