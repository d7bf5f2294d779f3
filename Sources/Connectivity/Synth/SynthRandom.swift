/// The synthetic cohort's random numbers: SplitMix64 with Box-Muller normals.
///
/// Every scan gets its own generator, seeded from (cohort seed, subject, session, purpose) by
/// `SynthRandom.derive`, so a scan's data do not depend on which other subjects are generated, in
/// what order, or on how many threads: the same seed gives byte-identical files.
struct SynthRandom {
    private var state: UInt64
    private var spare: Double?

    init(seed: UInt64) { state = seed }

    /// A seed mixed from a base seed and labels (FNV-1a over the labels, then SplitMix finalised).
    static func derive(_ seed: UInt64, _ labels: String...) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ seed
        for label in labels {
            for byte in label.utf8 { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
            h = (h ^ 0xFF) &* 0x0000_0100_0000_01B3
        }
        var z = h &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in `range`.
    mutating func uniform(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * uniform()
    }

    /// Standard normal (Box-Muller, both values used).
    mutating func normal() -> Double {
        if let s = spare { spare = nil; return s }
        var u = uniform()
        while u <= 0 { u = uniform() }
        let v = uniform()
        let r = (-2 * _log(u)).squareRoot()
        spare = r * _sin(2 * Double.pi * v)
        return r * _cos(2 * Double.pi * v)
    }

    /// Band-limited Gaussian noise with unit variance: random-phase sinusoids (Gaussian complex
    /// amplitudes) at every DFT frequency k / (n · tr) inside [low, high] Hz. Its power lies wholly
    /// in the band, so a band-pass that contains the band keeps all of it, and it has as many
    /// degrees of freedom as the band allows (about 2 n tr (high − low)).
    mutating func bandLimited(_ n: Int, tr: Double, low: Double, high: Double) -> [Double] {
        let duration = Double(n) * tr
        let first = max(1, Int((low * duration).rounded(.up))), last = min(n / 2 - 1, Int((high * duration).rounded(.down)))
        var out = [Double](repeating: 0, count: n)
        guard first <= last else { return out }
        for k in first...last {
            let a = normal(), b = normal()
            let w = 2 * Double.pi * Double(k) / Double(n)
            for t in 0..<n { out[t] += a * _cos(w * Double(t)) + b * _sin(w * Double(t)) }
        }
        let mean = out.reduce(0, +) / Double(n)
        let sd = (out.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n - 1)).squareRoot()
        return out.map { ($0 - mean) / sd }
    }

    /// An AR(1) series of length n with lag-1 coefficient `phi` and unit marginal variance.
    mutating func ar1(_ n: Int, phi: Double) -> [Double] {
        var out = [Double](repeating: 0, count: n)
        var x = normal()
        let scale = (1 - phi * phi).squareRoot()
        for t in 0..<n {
            out[t] = x
            x = phi * x + scale * normal()
        }
        return out
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) func _sin(_ x: Double) -> Double { Glibc.sin(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#else
import Foundation
@inline(__always) func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) func _sin(_ x: Double) -> Double { Foundation.sin(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Foundation.cos(x) }
#endif
