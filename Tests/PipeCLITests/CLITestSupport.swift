import Foundation
import XCTest

/// The package root (three levels above this file).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The built `pipe` binary, next to the test bundle in the products folder.
func pipeBinary() throws -> URL {
    let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for candidate in [products.appendingPathComponent("pipe"), packageRoot.appendingPathComponent(".build/debug/pipe")]
    where FileManager.default.isExecutableFile(atPath: candidate.path) {
        return candidate
    }
    throw XCTSkip("the pipe binary is not built; run `swift build` first")
}

struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs the built `pipe` with `arguments` and waits for it.
func runPipe(_ arguments: [String], in folder: URL? = nil) throws -> CommandResult {
    let process = Process()
    process.executableURL = try pipeBinary()
    process.arguments = arguments
    if let folder { process.currentDirectoryURL = folder }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
}
