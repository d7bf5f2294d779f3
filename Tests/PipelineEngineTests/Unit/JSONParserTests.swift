import XCTest
@testable import PipelineEngine

final class JSONParserTests: XCTestCase {
    func parse(_ s: String) throws -> JSONNode {
        var p = JSONParser(bytes: Array(s.utf8), file: "t.json")
        return try p.parseDocument()
    }

    func testLocationsOfValuesAndKeys() throws {
        let root = try parse("{\n  \"a\": [1, 2.5e1],\n  \"b\": {\"c\": \"x\\u00e9\"}\n}")
        let a = root.member("a")!
        XCTAssertEqual(a.keyLocation.description, "t.json:2:3")
        XCTAssertEqual(a.value.location.description, "t.json:2:8")
        guard case .array(let items) = a.value.kind else { return XCTFail() }
        XCTAssertEqual(items[1].location.description, "t.json:2:12")
        XCTAssertEqual(items[1].plain, .number(25))
        let c = root.member("b")!.value.member("c")!
        XCTAssertEqual(c.value.plain, .string("xé"))
        XCTAssertEqual(c.value.location.description, "t.json:3:14")
        // Member order is file order.
        XCTAssertEqual(root.members!.map(\.key), ["a", "b"])
    }

    func testErrorsPointAtTheProblem() {
        func message(_ s: String) -> String {
            do { _ = try parse(s); return "" } catch { return (error as! PipeError).message }
        }
        XCTAssertEqual(message("{\"a\": 1,}"), "t.json:1:9 invalid JSON: unexpected '}', expected a quoted key")
        XCTAssertEqual(message("[1, 2"), "t.json:1:6 invalid JSON: unexpected end of file, expected ',' or ']'")
        XCTAssertEqual(message("{\"a\": tru}"), "t.json:1:10 invalid JSON: unexpected '}', expected 'true'")
        XCTAssertEqual(message("{\"a\": 1, \"a\": 2}"), "t.json:1:10 invalid JSON: duplicate key \"a\"")
        XCTAssertEqual(message("\n\n  01"), "t.json:3:4 invalid JSON: unexpected '1' after the JSON value")
        XCTAssertEqual(message(""), "t.json:1:1 invalid JSON: empty document: expected a JSON value")
        XCTAssertEqual(message("\"a\nb\""), "t.json:1:3 invalid JSON: control character in string")
    }

    func testSerializationIsCanonical() throws {
        let v = try JSONValue.parse("{\"b\": [1, 0.5, -0, 1e20, 1e300], \"a\": \"q\\\"\\n\", \"c\": null}")
        XCTAssertEqual(v.serialized(), "{\"a\":\"q\\\"\\n\",\"b\":[1,0.5,0,1e+20,1e+300],\"c\":null}")
        XCTAssertEqual(try JSONValue.parse(v.serialized()), v)
    }
}
