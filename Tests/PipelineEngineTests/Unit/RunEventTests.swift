import XCTest
@testable import PipelineEngine

final class RunEventTests: XCTestCase {
    /// The journal's fast writer must produce exactly the general serialisation.
    func testFastJournalLinesMatchTheGeneralSerialization() {
        let events: [RunEvent] = [
            .planned(stage: "clean \"x\"", scope: .scan(subject: "01", session: "2", run: nil), status: .run, key: "abc",
                     reasons: ["parameter changed: fwhm (6 -> 4)", "input changed: data (/a\\b.txt)"]),
            .planned(stage: "group", scope: .group, status: .pending, key: nil, reasons: ["upstream will run: clean"]),
            .planned(stage: "s", scope: .subject("02"), status: .cached, key: "k", reasons: []),
            .cached(stage: "s", scope: .subject("02"), key: "k"),
            .started(stage: "s", scope: .group, key: "k", attempt: 2),
        ]
        for e in events {
            XCTAssertEqual(e.jsonLine(time: 1234.5678), e.json(time: 1234.5678).serialized() + "\n")
        }
    }

    /// `pipe status` and Slurm recovery take the last journal name as the newest run: run ids must
    /// sort in start order, also for runs one millisecond apart whose pids have different digit
    /// counts (with whole seconds, "…Z-100000" sorted before "…Z-99999").
    func testRunIDsSortInStartOrderWithinOneSecond() {
        let t = Date(timeIntervalSince1970: 1_796_500_000.25)
        let ids = [Journal.runID(at: t, pid: 99_999), Journal.runID(at: t.addingTimeInterval(0.001), pid: 100_000),
                   Journal.runID(at: t.addingTimeInterval(0.001002), pid: 7), Journal.runID(at: t.addingTimeInterval(1), pid: 3)]
        XCTAssertEqual(ids.sorted(), ids)
        XCTAssertEqual(ids[0], "20261205T194640.250000Z-99999")
        XCTAssertEqual(Timestamp.compact(Date(timeIntervalSince1970: -0.5)), "19691231T235959.500000Z")
    }
}
