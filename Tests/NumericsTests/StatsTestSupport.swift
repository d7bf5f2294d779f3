import Foundation
import XCTest
import TestSupport
import Numerics

extension XCTestCase {
    /// A fresh temporary directory for one cross-check, removed when the test ends.
    func statsTempDir() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-stats-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }
}

/// Runs Tests/CrossCheck/<script> with arguments; fails the test with its output on error.
func runStatsScript(_ script: String, _ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws {
    let python = try crossCheckPython()
    let path = testPackageRoot.appendingPathComponent("Tests/CrossCheck/\(script)").path
    let result = try runProcess(python, [path] + arguments)
    if result.status != 0 {
        XCTFail("\(script) failed: \(result.output)", file: file, line: line)
        throw CrossCheckUnavailable(message: result.output)
    }
}

/// Standard normal draws from a seeded xoshiro256** (Box–Muller).
struct StatsGaussian {
    var rng: Xoshiro256StarStar
    init(seed: UInt64) { rng = Xoshiro256StarStar(seed: seed) }
    mutating func uniform() -> Double { (Double(rng.next() >> 11) + 0.5) * 0x1p-53 }
    mutating func next() -> Double {
        (-2 * Foundation.log(uniform())).squareRoot() * Foundation.cos(2 * Double.pi * uniform())
    }
    mutating func array(_ count: Int) -> [Double] { (0..<count).map { _ in next() } }
}

/// Max relative error |a − b| / max(|b|, floor), treating equal infinities/NaNs as equal.
func maxRelativeError(_ a: [Double], _ b: [Double], floor: Double = 1e-300) -> Double {
    precondition(a.count == b.count)
    var worst = 0.0
    for (x, y) in zip(a, b) {
        if x == y || (x.isNaN && y.isNaN) { continue }
        worst = max(worst, abs(x - y) / max(abs(y), floor))
    }
    return worst
}

/// Smooth noise on a grid: white noise blurred by repeated 6-neighbour averaging.
func smoothNoiseMap(nx: Int, ny: Int, nz: Int, passes: Int, gauss: inout StatsGaussian) -> [Double] {
    var m = gauss.array(nx * ny * nz)
    for _ in 0..<passes {
        var o = m
        for z in 0..<nz { for y in 0..<ny { for x in 0..<nx {
            var s = m[x + nx * (y + ny * z)], c = 1.0
            for (dx, dy, dz) in [(1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1)] {
                let a = x + dx, b = y + dy, cz = z + dz
                if a >= 0, b >= 0, cz >= 0, a < nx, b < ny, cz < nz { s += m[a + nx * (b + ny * cz)]; c += 1 }
            }
            o[x + nx * (y + ny * z)] = s / c
        } } }
        m = o
    }
    let mean = m.reduce(0, +) / Double(m.count)
    let sd = (m.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(m.count)).squareRoot()
    return m.map { ($0 - mean) / sd }
}
