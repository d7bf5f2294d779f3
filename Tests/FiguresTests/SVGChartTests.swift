@testable import Figures
import Foundation
import XCTest

/// Chart legends go where they hide the least: the legend's box (its white backing) covers no
/// point when a corner is free, the fewest points when none is, and no part of a drawn line
/// when the lines leave a corner free.
final class SVGChartTests: XCTestCase {
    private struct Box { let x, y, width, height: Double
        func contains(_ p: (Double, Double), pad: Double = 0) -> Bool {
            p.0 >= x - pad && p.0 <= x + width + pad && p.1 >= y - pad && p.1 <= y + height + pad
        }
    }

    private func numbers(_ svg: String, _ pattern: String) -> [[Double]] {
        let regex = try! NSRegularExpression(pattern: pattern)
        return regex.matches(in: svg, range: NSRange(svg.startIndex..., in: svg)).map { m in
            (1..<m.numberOfRanges).map { Double(svg[Range(m.range(at: $0), in: svg)!])! }
        }
    }

    private func legendBox(_ svg: String) throws -> Box {
        let boxes = numbers(svg, ##"<rect x="([-0-9.]+)" y="([-0-9.]+)" width="([0-9.]+)" height="([0-9.]+)" fill="#fff" fill-opacity="0.85"/>"##)
        XCTAssertEqual(boxes.count, 1, "one legend")
        let b = try XCTUnwrap(boxes.first)
        return Box(x: b[0], y: b[1], width: b[2], height: b[3])
    }

    private func circles(_ svg: String) -> [(Double, Double)] {
        numbers(svg, ##"<circle cx="([-0-9.]+)" cy="([-0-9.]+)""##).map { ($0[0], $0[1]) }
    }

    /// The points of the lines drawn in the palette's colours (not the axes or the chance line),
    /// sampled densely.
    private func lineSamples(_ svg: String) -> [(Double, Double)] {
        let segments = numbers(svg, ##"<line x1="([-0-9.]+)" y1="([-0-9.]+)" x2="([-0-9.]+)" y2="([-0-9.]+)" stroke="#(?:1f77b4|d62728)""##)
        var out: [(Double, Double)] = []
        for s in segments { for i in 0...100 { let t = Double(i) / 100; out.append((s[0] + (s[2] - s[0]) * t, s[1] + (s[3] - s[1]) * t)) } }
        let polyRegex = try! NSRegularExpression(pattern: ##"<polyline points="([^"]*)" fill="none" stroke="#(?:1f77b4|d62728)""##)
        for m in polyRegex.matches(in: svg, range: NSRange(svg.startIndex..., in: svg)) {
            let pts = svg[Range(m.range(at: 1), in: svg)!].split(separator: " ").map { $0.split(separator: ",").map { Double($0)! } }
            for (a, b) in zip(pts, pts.dropFirst()) {
                for i in 0...100 { let t = Double(i) / 100; out.append((a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)) }
            }
        }
        return out
    }

    func testAScatterLegendLeavesACrowdedTopRightForAFreeCorner() throws {
        // Responders fill the top right (where the legend used to be fixed), non-responders the
        // bottom left; the top left has the note.
        var x: [Double] = [], y: [Double] = [], groups: [String] = []
        for i in 0..<12 { x.append(-10 + Double(i % 4)); y.append(0.45 + 0.05 * Double(i)); groups.append("responder") }
        for i in 0..<12 { x.append(-90 + Double(i % 4)); y.append(-1.4 + 0.02 * Double(i)); groups.append("nonresponder") }
        let svg = SVGChart.scatter(x: x, y: y, groups: groups, title: "t", xLabel: "x", yLabel: "y", fit: true, note: "r = 0.9")
        let box = try legendBox(svg), points = circles(svg)
        XCTAssertEqual(points.count, 24)
        // Where the legend of these labels stood before: the top right, 92 × 30 px.
        let topRight = Box(x: SVGChart.width - SVGChart.right - 94, y: SVGChart.top - 3, width: 92, height: 30)
        XCTAssertTrue(points.contains { topRight.contains($0) }, "the data reach the top right, so a legend fixed there would cover them")
        XCTAssertFalse(points.contains { box.contains($0, pad: 3.2) }, "the legend covers no point: \(box)")
        XCTAssertGreaterThan(box.x, SVGChart.width / 2, "the top left is the note's, and the bottom left is taken")
        XCTAssertGreaterThan(box.y, SVGChart.height / 2)
    }

    func testWhenEveryCornerHasPointsTheLegendCoversTheFewest() throws {
        // Corners with 3 (top right), 1 (bottom right), 2 (bottom left) and 3 (top left) points.
        let corners: [(Double, Double, Int)] = [(9.6, 9.6, 3), (9.6, 0.4, 1), (0.4, 0.4, 2), (0.4, 9.6, 3)]
        var x: [Double] = [0, 10], y: [Double] = [0, 10], groups = ["a", "b"]
        for (cx, cy, n) in corners { for k in 0..<n { x.append(cx + (cx > 5 ? -0.15 : 0.15) * Double(k)); y.append(cy); groups.append(k % 2 == 0 ? "a" : "b") } }
        let svg = SVGChart.scatter(x: x, y: y, groups: groups, title: "t", xLabel: "x", yLabel: "y")
        let box = try legendBox(svg)
        let covered = circles(svg).filter { box.contains($0, pad: 3.2) }.count
        XCTAssertEqual(covered, 1, "the bottom-right corner, with one point")
        XCTAssertGreaterThan(box.x, SVGChart.width / 2)
        XCTAssertGreaterThan(box.y, SVGChart.height / 2)
    }

    func testPrePostLinesEndingHighMoveTheLegendOffThem() throws {
        // Every subject rises to the top of the range at the second session, so a top-right
        // legend would sit over the lines' right ends.
        let pre = (0..<10).map { 0.1 * Double($0) }, post = (0..<10).map { 2.0 + 0.02 * Double($0) }
        let groups = (0..<10).map { $0 % 2 == 0 ? "nonresponder" : "responder" }
        let svg = SVGChart.prePost(pre: pre, post: post, groups: groups, labels: ("baseline", "day13"), title: "t", yLabel: "z")
        let box = try legendBox(svg), samples = lineSamples(svg)
        XCTAssertEqual(samples.count, 10 * 101)
        XCTAssertFalse(samples.contains { box.contains($0, pad: 1) }, "the legend covers no line: \(box)")
    }

    func testARocCurveBelowChanceMovesTheLegendFromTheBottomRight() throws {
        // A classifier worse than chance runs along the bottom right, where legends usually go.
        let worse: [(Double, Double)] = [(0, 0), (0.5, 0), (0.9, 0.1), (1, 0.5), (1, 1)]
        let better: [(Double, Double)] = [(0, 0), (0, 0.7), (0.3, 1), (1, 1)]
        let svg = SVGChart.roc([(name: "leave-one-out (honest)", points: worse), (name: "in-sample (circular)", points: better)], title: "t")
        let box = try legendBox(svg), samples = lineSamples(svg)
        XCTAssertFalse(samples.isEmpty)
        XCTAssertFalse(samples.contains { box.contains($0, pad: 1) }, "the legend covers no curve: \(box)")
        let good = SVGChart.roc([(name: "fixed region", points: better)], title: "t")
        let goodBox = try legendBox(good)
        XCTAssertGreaterThan(goodBox.x, SVGChart.width / 2, "a curve above chance leaves the bottom right, tried first")
        XCTAssertGreaterThan(goodBox.y, SVGChart.height / 2)
    }

    func testOneGroupDrawsNoLegendAndTheSameDataGiveTheSameBytes() {
        let x = [1.0, 2, 3], y = [3.0, 1, 2]
        let svg = SVGChart.scatter(x: x, y: y, groups: ["a", "a", "a"], title: "t", xLabel: "x", yLabel: "y")
        XCTAssertFalse(svg.contains("fill-opacity=\"0.85\""))
        XCTAssertEqual(svg, SVGChart.scatter(x: x, y: y, groups: ["a", "a", "a"], title: "t", xLabel: "x", yLabel: "y"))
    }
}
