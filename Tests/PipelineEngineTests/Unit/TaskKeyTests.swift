import XCTest
@testable import PipelineEngine

final class TaskKeyTests: XCTestCase {
    func testCanonicalEncodingBytes() {
        var e = CanonicalEncoder()
        e.encode(.object(["b": .bool(true), "a": .number(1)]))
        let le = { (n: UInt8) in [n, 0, 0, 0, 0, 0, 0, 0] }
        let expected: [UInt8] = [0x06] + le(2)
            + [0x04] + le(1) + [UInt8(ascii: "a")] + [0x02] + le(1)
            + [0x04] + le(1) + [UInt8(ascii: "b")] + [0x01, 0x01]
        XCTAssertEqual(e.bytes, expected)
        var f = CanonicalEncoder()
        f.encode(.array([.number(0.5), .null, .string("é")]))
        XCTAssertEqual(f.bytes, [0x05] + le(3) + [0x03, 0, 0, 0, 0, 0, 0, 0xE0, 0x3F] + [0x00] + [0x04] + le(2) + [0xC3, 0xA9])
    }

    /// The golden key: changing the key encoding (or anything it hashes) must be a deliberate
    /// decision that bumps ``TaskKey/formatVersion`` and updates this digest.
    func testGoldenKeyOfAFixedTask() {
        let key = TaskKey.compute(
            kind: "test.scale", version: 3,
            params: .object(["factor": .number(2), "band": .array([.number(0.01), .number(0.1)]), "label": .string("x")]),
            scope: .scan(subject: "01", session: "1", run: nil),
            sources: [("data", String(repeating: "ab", count: 32))],
            inputs: [(0, .scan(subject: "01", session: "1", run: nil),
                      [OutputFile(name: "sub-01_ses-1.txt", sha256: String(repeating: "cd", count: 32), size: 10)])])
        // Cross-checked against an independent Python implementation of the documented encoding.
        XCTAssertEqual(key, "78714585fbc26cb3a2f333ce456c5c5e4d40d7d5989c26fc4e83f20e34fb711a")
    }

    func testKeyIgnoresOrderOfParamsAndSourcesButNotValues() {
        func key(_ params: JSONValue, _ sources: [(String, String)], scope: Scope = .subject("01")) -> String {
            TaskKey.compute(kind: "k", version: 1, params: params, scope: scope, sources: sources.map { ($0.0, $0.1) }, inputs: [])
        }
        let a = key(.object(["x": .number(1), "y": .number(2)]), [("a", "1"), ("b", "2")])
        XCTAssertEqual(a, key(.object(["y": .number(2), "x": .number(1)]), [("b", "2"), ("a", "1")]))
        XCTAssertEqual(a, key(.object(["x": .number(1.0), "y": .number(2)]), [("a", "1"), ("b", "2")]), "1 and 1.0 are the same JSON number")
        XCTAssertNotEqual(a, key(.object(["x": .number(1), "y": .number(3)]), [("a", "1"), ("b", "2")]))
        XCTAssertNotEqual(a, key(.object(["x": .number(1), "y": .number(2)]), [("a", "1"), ("b", "3")]))
        XCTAssertNotEqual(a, key(.object(["x": .number(1), "y": .number(2)]), [("a", "1"), ("b", "2")], scope: .subject("02")))
        XCTAssertNotEqual(key(.object(["x": .string("1")]), []), key(.object(["x": .number(1)]), []), "type tags distinguish")
        XCTAssertNotEqual(TaskKey.compute(kind: "k", version: 2, params: .object([:]), scope: .group, sources: [], inputs: []),
                          TaskKey.compute(kind: "k", version: 1, params: .object([:]), scope: .group, sources: [], inputs: []),
                          "the implementation version is part of the key")
    }
}
