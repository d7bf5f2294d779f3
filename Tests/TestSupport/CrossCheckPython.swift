import Foundation
import XCTest

/// The package root (three levels above this file).
public let testPackageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Helpers shared by the test targets (like swift-argument-parser's ArgumentParserTestHelpers).

/// A Python with the reference tools (nibabel, nilearn, scipy) for cross-checks.
///
/// `PIPE_PYTHON`, else `.venv/bin/python` in the package (made by `scripts/test`). Without one the
/// calling test skips, unless `PIPE_REQUIRE_CROSSCHECK=1` (set by `scripts/test` and CI), where a
/// missing Python fails the test.
public func crossCheckPython(modules: [String] = ["numpy", "scipy", "nilearn"]) throws -> String {
    let env = ProcessInfo.processInfo.environment
    let candidates = [env["PIPE_PYTHON"], testPackageRoot.appendingPathComponent(".venv/bin/python").path].compactMap { $0 }
    let probe = "import " + modules.joined(separator: ", ")
    for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
        if (try? runProcess(candidate, ["-c", probe]))?.status == 0 { return candidate }
    }
    let message = "no Python with \(modules.joined(separator: ", ")) (tried \(candidates.joined(separator: ", "))); run scripts/test, or set PIPE_PYTHON"
    if env["PIPE_REQUIRE_CROSSCHECK"] == "1" {
        XCTFail(message)
        throw CrossCheckUnavailable(message: message)
    }
    throw XCTSkip(message)
}

public struct CrossCheckUnavailable: Error {
    public var message: String
    public init(message: String) { self.message = message }
}

/// Runs a program to completion; returns its status and its stdout and stderr together.
@discardableResult
public func runProcess(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, b in b } }
    let out = Pipe()
    process.standardOutput = out
    process.standardError = out
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Runs `/bin/gzip` with `arguments` on `file` and returns its stdout (compressed or decompressed
/// bytes).
public func gzipOutput(_ arguments: [String], _ file: URL) throws -> Data {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/gzip")
    process.arguments = arguments + [file.path]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return data
}

/// Writes doubles as little-endian float64 (numpy: `np.fromfile(path, "<f8")`).
public func writeFloat64(_ values: [Double], to url: URL) throws {
    var data = Data(capacity: values.count * 8)
    for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
    try data.write(to: url)
}

/// Reads little-endian float64 values.
public func readFloat64(_ url: URL) throws -> [Double] {
    let data = try Data(contentsOf: url)
    return data.withUnsafeBytes { raw in
        (0..<(data.count / 8)).map { Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))) }
    }
}

/// SplitMix64: a small seeded generator, so test data do not depend on the system RNG.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
