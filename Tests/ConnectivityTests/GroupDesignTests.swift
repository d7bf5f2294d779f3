import Foundation
import XCTest
@testable import Connectivity

final class GroupDesignTests: XCTestCase {
    private func table(_ text: String, prefix: [UInt8] = []) throws -> ParticipantsTable {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("participants-\(UUID().uuidString.prefix(6)).tsv")
        try Data(prefix + Array(text.utf8)).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return try ParticipantsTable.read(url.path)
    }

    private let tsv = """
        participant_id\tgroup\tresponder\tage\tmadrs_change_pct
        sub-01\tanxious\tresponder\t30\t-60
        sub-02\tanxious\tnonresponder\t40\t-20
        sub-03\tnonanxious\tresponder\t50\t-70
        sub-04\tanxious\tresponder\t35\t-55
        sub-05\tnonanxious\tnonresponder\t45\tn/a
        sub-06\tnonanxious\tnonresponder\t25\t-10

        """

    func testTwoGroupsWithDemeanedCovariate() throws {
        let t = try table(tsv)
        let d = try GroupDesign(.init(group: "responder", covariates: ["age"]), subjects: ["01", "02", "03", "04", "06"], table: t)
        XCTAssertEqual(d.columnNames, ["nonresponder", "responder", "age"])
        XCTAssertEqual(d.matrix.column(1), [1, 0, 1, 1, 0])
        XCTAssertEqual(d.matrix.column(2), [-6, 4, 14, -1, -11])
        XCTAssertEqual(try d.contrast("responder > nonresponder"), [-1, 1, 0])
        XCTAssertEqual(try d.contrast("nonresponder - responder"), [1, -1, 0])
        XCTAssertEqual(try d.contrast("age"), [0, 0, 1])
        XCTAssertEqual(try d.contrast("0.5*responder + 0.5*nonresponder"), [0.5, 0.5, 0])
        XCTAssertThrowsError(try d.contrast("anxious > nonanxious")) { XCTAssertTrue("\($0)".contains("not a design column")) }
    }

    func testALevelWithAHyphenIsOneTermOfAContrast() throws {
        let t = try table(tsv.replacingOccurrences(of: "\tnonanxious\t", with: "\tnon-anxious\t"))
        let d = try GroupDesign(.init(group: "group", covariates: ["age"]), subjects: ["01", "02", "03", "04", "06"], table: t)
        XCTAssertEqual(d.columnNames, ["anxious", "non-anxious", "age"])
        XCTAssertEqual(try d.contrast("anxious > non-anxious"), [1, -1, 0])
        XCTAssertEqual(try d.contrast("non-anxious - anxious"), [-1, 1, 0])
        XCTAssertEqual(try d.contrast("0.5*non-anxious+0.5*anxious - age"), [0.5, 0.5, -1])
        XCTAssertEqual(try d.contrast("-non-anxious"), [0, -1, 0])
        // Without the design's names the hyphen is a minus, as it always was.
        XCTAssertEqual(try GroupDesign.contrastTerms("anxious > non-anxious").map(\.name), ["anxious", "non", "anxious"])
        XCTAssertEqual(try GroupDesign.contrastTerms("a-b - c", names: ["a-b", "c"]).map(\.weight), [1, -1])
    }

    func testCRLFTableWithAByteOrderMarkGivesTheSameDesign() throws {
        let lf = try table(tsv)
        let crlf = try table(tsv.replacingOccurrences(of: "\n", with: "\r\n") + "\r\n", prefix: [0xEF, 0xBB, 0xBF])
        XCTAssertEqual(crlf.columns, lf.columns)
        XCTAssertEqual(crlf.rows, lf.rows)
        XCTAssertEqual(try crlf.value("06", "madrs_change_pct"), "-10")
        XCTAssertNil(try crlf.value("05", "madrs_change_pct"))
        let spec = GroupDesign.Spec(group: "responder", covariates: ["age", "madrs_change_pct"])
        let subjects = ["01", "02", "03", "04", "06"]
        XCTAssertEqual(try GroupDesign(spec, subjects: subjects, table: crlf).matrix.column(2),
                       try GroupDesign(spec, subjects: subjects, table: lf).matrix.column(2))
        XCTAssertEqual(try GroupDesign(spec, subjects: subjects, table: crlf).matrix.column(3),
                       try GroupDesign(spec, subjects: subjects, table: lf).matrix.column(3))
    }

    func testRepeatedColumnsOrSubjectsAreErrorsNamingTheTable() throws {
        XCTAssertThrowsError(try table("participant_id\tage\tage\r\nsub-01\t30\t31\r\n")) { error in
            XCTAssertEqual((error as? InputError)?.field, "age")
            XCTAssertTrue("\(error)".contains("column name appears twice"), "\(error)")
        }
        XCTAssertThrowsError(try table("participant_id\tage\r\nsub-01\t30\r\n\r\n01\t31\r\n")) { error in
            XCTAssertTrue("\(error)".contains("sub-01 appears twice"), "\(error)")
        }
        XCTAssertThrowsError(try table("participant_id\tage\r\nsub-01\t30\r\n\r\nsub-02\r\n")) { error in
            XCTAssertEqual((error as? InputError)?.field, "line 4")
        }
    }

    func testOneSampleAndRegressionDesigns() throws {
        let t = try table(tsv)
        let one = try GroupDesign(.init(), subjects: ["01", "02", "03"], table: t)
        XCTAssertEqual(one.columnNames, ["mean"])
        XCTAssertEqual(try one.contrast("mean"), [1])
        let regression = try GroupDesign(.init(covariates: ["madrs_change_pct"]), subjects: ["01", "02", "03", "04"], table: t)
        XCTAssertEqual(regression.columnNames, ["mean", "madrs_change_pct"])
        XCTAssertEqual(regression.matrix.column(1).reduce(0, +), 0, accuracy: 1e-12)
    }

    func testInteractionGivesOneSlopePerLevel() throws {
        let t = try table(tsv)
        let d = try GroupDesign(.init(group: "group", covariates: ["age"], interactions: ["age:group"]),
                                subjects: ["01", "02", "03", "04", "06"], table: t)
        XCTAssertEqual(d.columnNames, ["anxious", "nonanxious", "age:anxious", "age:nonanxious"])
        XCTAssertEqual(d.matrix.column(3), [0, 0, 12.5, 0, -12.5])
        XCTAssertEqual(try d.contrast("age:anxious - age:nonanxious"), [0, 0, 1, -1])
    }

    func testBadDesignsAreClearErrors() throws {
        let t = try table(tsv)
        XCTAssertThrowsError(try GroupDesign(.init(covariates: ["madrs_change_pct"]), subjects: ["01", "05", "06"], table: t)) {
            XCTAssertTrue("\($0)".contains("sub-05 has no value") && "\($0)".contains("madrs_change_pct"), "\($0)")
        }
        XCTAssertThrowsError(try GroupDesign(.init(covariates: ["group"]), subjects: ["01", "02", "03"], table: t)) {
            XCTAssertTrue("\($0)".contains("expected a number"), "\($0)")
        }
        XCTAssertThrowsError(try GroupDesign(.init(group: "responder"), subjects: ["01", "03"], table: t)) {
            XCTAssertTrue("\($0)".contains("empty: nonresponder"), "\($0)")
        }
        XCTAssertThrowsError(try GroupDesign(.init(group: "responder", covariates: ["age"]), subjects: ["01", "02", "03"], table: t)) {
            XCTAssertTrue("\($0)".contains("rank deficient"), "\($0)")
        }
        // Age identical to a group indicator times a constant plus offset is collinear: 2 subjects per level.
        XCTAssertThrowsError(try GroupDesign(.init(group: "group", covariates: ["age"]), subjects: ["01", "03"], table: t))
        XCTAssertThrowsError(try GroupDesign(.init(covariates: ["height"]), subjects: ["01", "02"], table: t)) {
            XCTAssertTrue("\($0)".contains("no such column"), "\($0)")
        }
        XCTAssertThrowsError(try table("id\tage\nsub-01\t3\n")) { XCTAssertTrue("\($0)".contains("participant_id")) }
    }
}
