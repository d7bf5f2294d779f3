import Foundation
import XCTest
@testable import PipelineEngine

/// `SlurmClient.run` drains a tool's stdout and stderr together: a tool that writes more than a
/// pipe holds to stderr before it closes stdout (a verbose `sbatch` or `scontrol` error) must not
/// leave the run waiting for ever.
final class SlurmClientTests: XCTestCase {
    func testALongStderrDoesNotBlockTheCall() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-slurmclient-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let tool = folder.appendingPathComponent("loud")
        // 256 KiB on stderr (four times a Linux pipe's 64 KiB), then a line on stdout, status 3.
        try """
        #!/bin/sh
        head -c 262144 /dev/zero | tr '\\0' 'e' >&2
        echo out
        exit 3

        """.write(to: tool, atomically: true, encoding: .utf8)
        chmod(tool.path, 0o755)
        let result = Locked<(status: Int32, out: String, err: String)?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let r = try? SlurmClient().run(tool.path, [])
            result.withLock { $0 = r }
            done.signal()
        }
        guard done.wait(timeout: .now() + 60) == .success else { return XCTFail("SlurmClient.run did not return within 60 s") }
        let r = try XCTUnwrap(result.withLock { $0 })
        XCTAssertEqual(r.status, 3)
        XCTAssertEqual(r.out, "out\n")
        XCTAssertEqual(r.err.count, 262_144)
        XCTAssertTrue(r.err.allSatisfy { $0 == "e" })
    }
}
