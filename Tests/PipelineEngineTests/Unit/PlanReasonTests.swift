import XCTest
@testable import PipelineEngine

/// `pipe plan` names what changed in a structured parameter instead of repeating it whole.
final class PlanReasonTests: XCTestCase {
    func testAChangedSeedListNamesOnlyTheChangedParts() throws {
        let old = try JSONValue.parse(#"[{"name": "LBAleft", "label": "LBA_left"}, {"name": "CMAright", "label": "CMA_right"}]"#)
        let new = try JSONValue.parse(#"[{"name": "LBAleft", "label": "LBA_lft"}, {"name": "CMAright", "label": "CMA_right"}, {"name": "X", "label": "Y"}]"#)
        XCTAssertEqual(Planner.changes("seeds", old, new),
                       [#"seeds[0].label ("LBA_left" -> "LBA_lft")"#, #"seeds[2] added {"label":"Y","name":"X"}"#])
        XCTAssertEqual(Planner.changes("factor", .number(2), .number(3)), ["factor (2 -> 3)"])
        XCTAssertEqual(Planner.changes("extra", nil, .string("a")), [#"extra (unset -> "a")"#])
        let many = Planner.changes("v", .array((0..<8).map { .number(Double($0)) }), .array((0..<8).map { .number(Double($0 + 1)) }))
        XCTAssertEqual(many.count, 6)
        XCTAssertEqual(many.last, "and 3 more")
    }
}
