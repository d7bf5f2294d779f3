import XCTest
@testable import PipelineEngine

final class SpecOverrideTests: XCTestCase {
    func node(_ s: String) throws -> JSONNode {
        var p = JSONParser(bytes: Array(s.utf8), file: "s.json")
        return try p.parseDocument()
    }

    func testOverridesParseJSONAndFallBackToString() throws {
        var root = try node("{\"stages\": {\"clean\": {\"fwhm\": 6, \"band\": [0.01, 0.1]}}, \"cohort\": {\"subjects\": [\"01\"]}}")
        try SpecOverride.apply("stages.clean.fwhm=4", to: &root)
        try SpecOverride.apply("stages.clean.band.1=0.08", to: &root)
        try SpecOverride.apply("stages.clean.note=hello world", to: &root)
        try SpecOverride.apply("cohort.subjects=[\"01\",\"02\"]", to: &root)
        XCTAssertEqual(root.plain["stages"]?["clean"]?["fwhm"], .number(4))
        XCTAssertEqual(root.plain["stages"]?["clean"]?["band"], .array([.number(0.01), .number(0.08)]))
        XCTAssertEqual(root.plain["stages"]?["clean"]?["note"], .string("hello world"))
        XCTAssertEqual(root.plain["cohort"]?["subjects"], .array([.string("01"), .string("02")]))
    }

    func testBadPathsAreNamed() throws {
        var root = try node("{\"stages\": {\"clean\": {\"fwhm\": 6}}}")
        func message(_ a: String) -> String {
            do { try SpecOverride.apply(a, to: &root); return "" } catch { return (error as! PipeError).message }
        }
        XCTAssertEqual(message("stages.claen.fwhm=4"), "--set stages.claen.fwhm=4: no key 'claen' in stages (did you mean 'clean'?)")
        XCTAssertEqual(message("stages.clean.fwhm.x=4"), "--set stages.clean.fwhm.x=4: stages.clean.fwhm is a number, not an object, so it has no key 'x'")
        XCTAssertEqual(message("=4"), "--set =4: expected path=value, e.g. --set stages.clean.fwhm=4")
        XCTAssertEqual(message("stages..x=1"), "--set stages..x=1: empty segment in path 'stages..x'")
    }

    func testEditDistanceSuggestions() {
        XCTAssertEqual(EditDistance.distance("kitten", "sitting"), 3)
        XCTAssertEqual(EditDistance.suggestion(for: "facter", among: ["factor", "offset"]), "factor")
        XCTAssertNil(EditDistance.suggestion(for: "zzzzzz", among: ["factor", "offset"]))
    }
}
