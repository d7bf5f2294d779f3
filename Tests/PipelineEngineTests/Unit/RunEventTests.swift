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
}
