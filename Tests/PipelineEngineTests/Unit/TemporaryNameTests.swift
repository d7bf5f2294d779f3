import XCTest
@testable import PipelineEngine

/// `FileSystem.isStaleTemporary`: which names in an output folder are temporary siblings
/// (`<name>.tmp-<pid>-<random>`) left by a process that no longer exists.
final class TemporaryNameTests: XCTestCase {
    /// Above Linux's largest pid (4,194,304), so no process has it.
    let dead: Int32 = 2_000_000_000

    func testATemporaryOfADeadProcessIsStale() {
        XCTAssertTrue(FileSystem.isStaleTemporary("sub-01_bold.nii.gz.tmp-\(dead)-12345"))
        XCTAssertTrue(FileSystem.isStaleTemporary("é_map.tsv.tmp-\(dead)-0"), "non-ASCII names are read as UTF-8")
        XCTAssertTrue(FileSystem.isStaleTemporary("a.tmp-1-2.tmp-\(dead)-7"), "the last marker counts")
    }

    func testLiveOrMalformedNamesAreNotStale() {
        XCTAssertFalse(FileSystem.isStaleTemporary("sub-01_bold.nii.gz.tmp-\(getpid())-12345"), "this process's own")
        XCTAssertFalse(FileSystem.isStaleTemporary("sub-01_bold.nii.gz"))
        XCTAssertFalse(FileSystem.isStaleTemporary(".tmp-\(dead)-1"), "a marker with no name before it")
        XCTAssertFalse(FileSystem.isStaleTemporary("a.tmp-x-1"), "a pid that is not a number")
        XCTAssertFalse(FileSystem.isStaleTemporary("a.tmp-\(dead)-1-2"), "three fields")
        XCTAssertFalse(FileSystem.isStaleTemporary("a.tmp-\(dead)-99999999999"), "a random part beyond UInt32")
        XCTAssertFalse(FileSystem.isStaleTemporary("a.tmp-\(dead)"), "no random part")
    }
}
