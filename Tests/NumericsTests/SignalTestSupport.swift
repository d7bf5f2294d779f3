import Foundation
import XCTest
import TestSupport
@testable import Numerics

/// The shared SplitMix64 with a normal sampler, so test data are reproducible.
struct SignalTestRandom: RandomNumberGenerator {
    var base: SplitMix64
    init(seed: UInt64) { base = SplitMix64(seed: seed) }
    mutating func next() -> UInt64 { base.next() }
    /// Standard normal (Box–Muller).
    mutating func normal() -> Double {
        let u1 = Double.random(in: Double.ulpOfOne..<1, using: &self), u2 = Double.random(in: 0..<1, using: &self)
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}

enum SignalTestData {
    /// T x K confounds: smooth motion-like random walks, a drift and noise.
    static func confounds(t: Int, k: Int, seed: UInt64) -> Matrix {
        var rng = SignalTestRandom(seed: seed)
        var m = Matrix(rows: t, columns: k)
        for c in 0..<k {
            var walk = 0.0
            let drift = rng.normal() * 0.01
            for r in 0..<t {
                walk += 0.3 * rng.normal()
                m[r, c] = walk + drift * Double(r) + 0.2 * rng.normal()
            }
        }
        return m
    }

    /// T x V signals: a mean around 100, a linear and a quadratic drift, two slow oscillations,
    /// a mixture of the confounds, and white noise.
    static func signals(t: Int, v: Int, confounds: Matrix?, seed: UInt64) -> Matrix {
        var rng = SignalTestRandom(seed: seed)
        var m = Matrix(rows: t, columns: v)
        for c in 0..<v {
            let mean = 100 + 20 * rng.normal()
            let lin = 0.05 * rng.normal(), quad = 0.0005 * rng.normal()
            let a1 = rng.normal(), f1 = 0.01 + 0.05 * Double.random(in: 0..<1, using: &rng)
            let a2 = 0.5 * rng.normal(), f2 = 0.1 + 0.1 * Double.random(in: 0..<1, using: &rng)
            let weights = (0..<(confounds?.columns ?? 0)).map { _ in rng.normal() }
            for r in 0..<t {
                let time = 2.0 * Double(r)
                var x = mean + lin * Double(r) + quad * Double(r * r) + a1 * sin(2 * .pi * f1 * time) + a2 * cos(2 * .pi * f2 * time)
                if let cf = confounds { for (k, w) in weights.enumerated() { x += w * cf[r, k] } }
                m[r, c] = x + rng.normal()
            }
        }
        return m
    }

    static func maxAbsDifference(_ a: [Double], _ b: [Double]) -> Double {
        precondition(a.count == b.count, "length \(a.count) != \(b.count)")
        var d = 0.0
        for i in a.indices {
            if a[i].isNaN != b[i].isNaN { return .infinity }
            if !a[i].isNaN { d = max(d, abs(a[i] - b[i])) }
        }
        return d
    }

    /// A fresh temporary directory.
    static func temporaryDirectory(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-signal-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs `Tests/CrossCheck/<script>` with `arguments`; fails the test on a non-zero status.
    static func runCrossCheckScript(_ script: String, _ arguments: [String], modules: [String] = ["numpy", "scipy", "nilearn"]) throws {
        let python = try crossCheckPython(modules: modules)
        let path = testPackageRoot.appendingPathComponent("Tests/CrossCheck/\(script)").path
        let result = try runProcess(python, [path] + arguments)
        guard result.status == 0 else {
            XCTFail("\(script) failed (\(result.status)):\n\(result.output)")
            throw CrossCheckUnavailable(message: result.output)
        }
    }
}
