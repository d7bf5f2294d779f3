import Foundation
import XCTest
import PipelineEngine
@testable import Connectivity

/// The maps table (`maps`): labels with or without `sub-`/`ses-`, rows by session, the source
/// names and paths a stage's task reads, and errors that name the table and the line.
final class MapsTableTests: XCTestCase {
    private func parse(_ text: String) throws -> MapsTable {
        try MapsTable.parse(TSVTable(bytes: Array(text.utf8)), path: "maps.tsv")
    }

    private func message(_ text: String, sessions: [String] = [""]) -> String {
        do {
            _ = try parse(text).rows(at: sessions)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    func testRowsSessionsAndSourceNames() throws {
        let table = try parse("participant_id\tsession\tpath\textra\nsub-01\tses-1\ta/1.nii.gz\tx\n02\t1\t/abs/2.nii.gz\ty\nsub-01\t2\ta/3.nii.gz\tz\n")
        XCTAssertEqual(table.sessions, ["1", "2"])
        XCTAssertEqual(try table.rows(at: ["ses-1"]).map(\.subject), ["01", "02"])
        XCTAssertEqual(try table.rows(at: ["1", "2"]).count, 3)
        let row = try table.rows(at: ["2"])[0]
        XCTAssertEqual(MapsTable.sourceName(subject: row.subject, session: row.session), "map_sub-01_ses-2")
        XCTAssertEqual(MapsTable.specPath(of: row, table: "conn/maps.tsv"), "conn/a/3.nii.gz")
        XCTAssertEqual(MapsTable.specPath(of: row, table: "maps.tsv"), "a/3.nii.gz")
        XCTAssertEqual(MapsTable.specPath(of: try table.rows(at: ["1"])[1], table: "conn/maps.tsv"), "/abs/2.nii.gz")
        XCTAssertEqual(MapsTable.label("conn/pcc_maps.tsv"), "pccmaps")
        XCTAssertEqual(MapsTable.label("__.tsv"), "maps")

        let plain = try parse("participant_id\tpath\r\nsub-01\t1.nii.gz\r\n")
        XCTAssertFalse(plain.hasSessions)
        XCTAssertEqual(MapsTable.sourceName(subject: "01", session: try plain.rows(at: [""])[0].session), "map_sub-01")
    }

    func testProblemsNameTheTableAndLine() {
        XCTAssertEqual(message("participant_id\tsession\n01\t1\n"),
                       "maps.tsv: path: missing column; the first line must name the columns participant_id, path and optionally session")
        XCTAssertEqual(message("participant_id\tpath\n01\n"), "maps.tsv: line 2: has 1 cells; the header has 2")
        XCTAssertEqual(message("participant_id\tpath\nsub-0_1\ta.nii.gz\n"), "maps.tsv: line 2: participant_id '0_1' is not a label of letters and digits")
        XCTAssertEqual(message("participant_id\tpath\n01\t\n"), "maps.tsv: line 2: empty path")
        XCTAssertEqual(message("participant_id\tsession\tpath\n01\t1\ta\n01\tses-1\tb\n"),
                       "maps.tsv: line 3: sub-01 at session 1 already has a map on line 2")
        XCTAssertEqual(message("participant_id\tsession\tpath\n01\t1\ta\n01\t2\tb\n"),
                       "maps.tsv: session: sub-01 has maps at sessions 1 and 2 (lines 2, 3); name the session the stage reads")
        XCTAssertEqual(message("participant_id\tpath\n01\ta\n", sessions: ["1"]),
                       "maps.tsv: session: no session column, so no maps at session '1'; add the column or leave the session out")
    }

    func testSourcesThrowASpecErrorNamingTheTable() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mapstable-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("conn"), withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        try "participant_id\tsession\tpath\n01\t1\ta.nii.gz\n01\t2\tb.nii.gz\n".write(to: folder.appendingPathComponent("conn/m.tsv"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try MapsTable.sources("conn/m.tsv", sessions: ["2"], directory: folder), ["map_sub-01_ses-2": "conn/b.nii.gz"])
        XCTAssertThrowsError(try MapsTable.sources("conn/none.tsv", sessions: ["1"], directory: folder)) { error in
            XCTAssertEqual((error as? PipeError)?.code, .invalidSpec)
            XCTAssertTrue("\(error)".contains("none.tsv: cannot read the maps table"), "\(error)")
        }
    }
}
