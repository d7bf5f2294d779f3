import Foundation
import XCTest
@testable import PipelineEngine

/// `FileSystem.standardized` returns what `URL.standardizedFileURL` does for every path, taking
/// its shortcut (the path as it is) only when the path needs nothing done.
final class PathStandardizingTests: XCTestCase {
    func testAgreesWithFoundation() {
        let paths = ["/", "/a", "/a/b.nii.gz", "/a/.b", "/a/...", "/a/b/", "/a//b", "//a", "/a/./b", "/a/.", "/a/..",
                     "/a/../b", "/a/b/..", "/.", "/..", "/a/.../b", "/a/..b/c", "/a/b../c", "/data/sub-01_run-1.txt",
                     "relative/path", "./x", "/a/ b/c", "/ä/ß.tsv"]
        for p in paths {
            XCTAssertEqual(FileSystem.standardized(p), URL(fileURLWithPath: p).standardizedFileURL.path, p)
        }
    }
}
