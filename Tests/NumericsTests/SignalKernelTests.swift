import XCTest
import CKernels
@testable import Numerics

/// The C kernels of the subject chain (Butterworth sections, confound regression, Gaussian
/// convolution, seed correlation sums, widening, int16 decoding): every path the CPU has
/// (AVX-512, AVX2, portable) gives the same bits, and these equal a plain scalar computation
/// written here with the same operations in the same order. Lane counts are chosen so that the
/// vector chunks of each width and the scalar tails all run.
/// Runs `body` on each path of the C kernels this CPU has, the widest first (their path capped in
/// turn, `pipe_kernels_cap_path`), with the path's name; the cap is lifted afterwards.
func onEveryKernelPath(_ body: (String) throws -> Void) rethrows {
    defer { pipe_kernels_cap_path(-1) }
    var seen = Set<Int32>()
    for cap: Int32 in [2, 1, 0] {
        pipe_kernels_cap_path(cap)
        let path = pipe_kernels_path()
        guard seen.insert(path).inserted else { continue }
        try body(["portable", "AVX2", "AVX-512"][Int(path)])
    }
}

final class SignalKernelTests: XCTestCase {

    func testThePathsAreTheCPUsAndCapped() {
        defer { pipe_kernels_cap_path(-1) }
        let best = pipe_kernels_path()
        XCTAssertTrue((0...2).contains(best))
        pipe_kernels_cap_path(0)
        XCTAssertEqual(pipe_kernels_path(), 0)
        XCTAssertEqual(pipe_kernels_use_avx2(), 0)
        pipe_kernels_cap_path(-1)
        XCTAssertEqual(pipe_kernels_path(), best)
    }

    func testButterworthCascadeMatchesScalarSectionsOnEveryPath() throws {
        var gauss = StatsGaussian(seed: 11)
        let count = 57, lanes = 23
        let filter = try XCTUnwrap(ButterworthFilter.design(order: 5, lowPass: 0.1, highPass: 0.01, samplingRate: 0.5))
        XCTAssertEqual(filter.sections.count, 5)
        var coefficients: [Double] = [], states: [Double] = []
        for (s, zi) in zip(filter.sections, filter.initialStates) {
            coefficients += [s[0], s[1], s[2], s[4], s[5]]
            states += zi
        }
        let input = gauss.array(count * lanes)
        for forward in [true, false] {
            var portable = input
            pipe_sos_cascade5_portable(&portable, count, lanes, coefficients, states, forward ? 1 : 0)
            onEveryKernelPath { path in
                var dispatched = input
                pipe_sos_cascade5(&dispatched, count, lanes, coefficients, states, forward ? 1 : 0)
                XCTAssertEqual(dispatched.map(\.bitPattern), portable.map(\.bitPattern), path)
            }
            let expected = scalarCascade(input, count: count, lanes: lanes, sections: 5, coefficients: coefficients, states: states, forward: forward)
            XCTAssertEqual(portable.map(\.bitPattern), expected.map(\.bitPattern), "forward \(forward)")
        }
    }

    /// A 5th-order low-pass has three sections; the cascade pads two identity sections, which
    /// must leave every (non-zero) sample as three sections alone give it.
    func testCascadePaddedWithIdentitySectionsEqualsTheSectionsAlone() throws {
        var gauss = StatsGaussian(seed: 14)
        let count = 40, lanes = 9
        let filter = try XCTUnwrap(ButterworthFilter.design(order: 5, lowPass: 0.1, highPass: nil, samplingRate: 0.5))
        XCTAssertEqual(filter.sections.count, 3)
        var coefficients: [Double] = [], states: [Double] = []
        for s in 0..<5 {
            coefficients += s < 3 ? [filter.sections[s][0], filter.sections[s][1], filter.sections[s][2], filter.sections[s][4], filter.sections[s][5]] : [1, 0, 0, 0, 0]
            states += s < 3 ? filter.initialStates[s] : [0, 0]
        }
        let input = gauss.array(count * lanes)
        var portable = input
        pipe_sos_cascade5_portable(&portable, count, lanes, coefficients, states, 1)
        onEveryKernelPath { path in
            var dispatched = input
            pipe_sos_cascade5(&dispatched, count, lanes, coefficients, states, 1)
            XCTAssertEqual(dispatched.map(\.bitPattern), portable.map(\.bitPattern), path)
        }
        let expected = scalarCascade(input, count: count, lanes: lanes, sections: 3, coefficients: coefficients, states: states, forward: true)
        XCTAssertEqual(portable.map(\.bitPattern), expected.map(\.bitPattern))
    }

    /// The first `sections` sections of a cascade, one sample and one section at a time, per lane.
    private func scalarCascade(_ input: [Double], count: Int, lanes: Int, sections: Int, coefficients: [Double], states: [Double],
                               forward: Bool) -> [Double] {
        var out = input
        let order = forward ? Array(0..<count) : Array((0..<count).reversed())
        for j in 0..<lanes {
            let x0 = input[order[0] * lanes + j]
            var p = (0..<sections).map { states[2 * $0] * x0 }, q = (0..<sections).map { states[2 * $0 + 1] * x0 }
            for t in order {
                var x = out[t * lanes + j]
                for s in 0..<sections {
                    let c = Array(coefficients[(5 * s)..<(5 * s + 5)])
                    let y = c[0] * x + p[s]
                    p[s] = c[1] * x - c[3] * y + q[s]
                    q[s] = c[2] * x - c[4] * y
                    x = y
                }
                out[t * lanes + j] = x
            }
        }
        return out
    }

    /// Ranks 7 and 19: coefficients one at a time only, and in blocks of 4 (AVX2) or 8 (AVX-512)
    /// with a remainder; 29 lanes: vector chunks and a scalar tail.
    func testRegressionMatchesScalarProjectionOnEveryPath() {
        var gauss = StatsGaussian(seed: 12)
        let rows = 50, lanes = 29
        for rank in [7, 19] {
            let qt = gauss.array(rank * rows)
            var q = [Double](repeating: 0, count: rows * rank)
            for k in 0..<rank { for r in 0..<rows { q[r * rank + k] = qt[k * rows + r] } }
            let input = gauss.array(rows * lanes)
            var portable = input
            var scratch = [Double](repeating: .nan, count: rank * 8)
            pipe_regress_portable(&portable, rows, lanes, Int32(rank), qt, q, &scratch)
            onEveryKernelPath { path in
                var dispatched = input
                pipe_regress(&dispatched, rows, lanes, Int32(rank), qt, q, &scratch)
                XCTAssertEqual(dispatched.map(\.bitPattern), portable.map(\.bitPattern), "\(path), rank \(rank)")
            }
            var expected = input
            for j in 0..<lanes {
                var c = [Double](repeating: 0, count: rank)
                for k in 0..<rank { for r in 0..<rows { c[k] = c[k] + qt[k * rows + r] * input[r * lanes + j] } }
                for r in 0..<rows {
                    var x = input[r * lanes + j]
                    for k in 0..<rank { x = x - q[r * rank + k] * c[k] }
                    expected[r * lanes + j] = x
                }
            }
            XCTAssertEqual(portable.map(\.bitPattern), expected.map(\.bitPattern), "rank \(rank)")
        }
    }

    func testConvolutionMatchesScalarSumOnEveryPath() {
        var gauss = StatsGaussian(seed: 13)
        let kernel = GaussianSmoothing.kernel(sigma: 1.27)
        // 45 outputs: 32 in 16-wide steps, 8 in an 8-wide step and 5 one at a time (AVX-512).
        let radius = kernel.count / 2, count = 45
        for step in [1, 41] {
            let samples = gauss.array((count + 2 * radius) * step + step)
            var portable = [Float](repeating: 0, count: count)
            samples.withUnsafeBufferPointer { s in
                pipe_convolve_portable(s.baseAddress! + radius * step, step, count, kernel, Int32(radius), &portable)
            }
            onEveryKernelPath { path in
                var dispatched = [Float](repeating: .nan, count: count)
                samples.withUnsafeBufferPointer { s in
                    pipe_convolve(s.baseAddress! + radius * step, step, count, kernel, Int32(radius), &dispatched)
                }
                XCTAssertEqual(dispatched.map(\.bitPattern), portable.map(\.bitPattern), "\(path), step \(step)")
            }
            let expected = (0..<count).map { j -> Float in
                let c = radius * step + j
                var acc = kernel[radius] * samples[c]
                for k in 1...radius { acc = acc + kernel[radius + k] * (samples[c + k * step] + samples[c - k * step]) }
                return Float(acc)
            }
            XCTAssertEqual(portable.map(\.bitPattern), expected.map(\.bitPattern), "step \(step)")
        }
    }

    /// The C seed-correlation sums equal the Swift Double path's (same operations, same order) bit
    /// for bit on every path, for seed counts that fill groups of three or not and block widths
    /// that are not multiples of 4; and so does the whole Pearson map.
    func testPearsonSumsMatchTheSwiftPathOnEveryPath() throws {
        var gauss = StatsGaussian(seed: 29)
        let t = 37, v = 523
        let data = gauss.array(t * v).map { Float(100 + 5 * $0) }
        for m in [1, 3, 5, 7] {
            let seeds = (0..<m).map { _ in gauss.array(t) }
            for w in [1, 6, 256] {
                var mean = [Double](repeating: 0, count: w), sxx = mean, sxy = [Double](repeating: 0, count: m * w)
                var pMean = mean, pSxx = sxx, pSxy = sxy
                let flat = seeds.flatMap { $0 }
                data.withUnsafeBufferPointer { x in
                    pipe_pearson_block_portable(x.baseAddress! + 11, v, t, w, flat, Int32(m), &pMean, &pSxx, &pSxy)
                }
                onEveryKernelPath { path in
                    data.withUnsafeBufferPointer { x in
                        pipe_pearson_block(x.baseAddress! + 11, v, t, w, flat, Int32(m), &mean, &sxx, &sxy)
                    }
                    XCTAssertEqual(sxy.map(\.bitPattern), pSxy.map(\.bitPattern), "m \(m) w \(w) \(path)")
                    XCTAssertEqual(sxx.map(\.bitPattern), pSxx.map(\.bitPattern), "m \(m) w \(w) \(path)")
                    XCTAssertEqual(mean.map(\.bitPattern), pMean.map(\.bitPattern), path)
                }
                // The Swift loops' order: means first, then r ascending.
                for j in 0..<w {
                    var mu = 0.0
                    for r in 0..<t { mu += Double(data[r * v + 11 + j]) }
                    mu /= Double(t)
                    var xx = 0.0, xy = [Double](repeating: 0, count: m)
                    for r in 0..<t {
                        let e = Double(data[r * v + 11 + j]) - mu
                        xx += e * e
                        for k in 0..<m { xy[k] += e * seeds[k][r] }
                    }
                    XCTAssertEqual(mean[j].bitPattern, mu.bitPattern, "mean m \(m) w \(w) j \(j)")
                    XCTAssertEqual(sxx[j].bitPattern, xx.bitPattern, "sxx m \(m) w \(w) j \(j)")
                    for k in 0..<m { XCTAssertEqual(sxy[k * w + j].bitPattern, xy[k].bitPattern, "sxy m \(m) w \(w) j \(j) k \(k)") }
                }
            }
            // The whole map: the Float32 path (C) against the Double path (Swift) on the same values.
            let fromFloat = try SeedCorrelation.pearson(seeds: seeds, data: data, timePoints: t)
            let widened = data.map { Double($0) }
            for k in 0..<m {
                let fromDouble = try SeedCorrelation.pearson(seed: seeds[k], data: widened, timePoints: t)
                XCTAssertEqual(fromFloat[k].map(\.bitPattern), fromDouble.map(\.bitPattern), "seed \(k) of \(m)")
            }
        }
    }

    /// The int16 decoding of the NIfTI reader: every path gives Swift's Float(Double(x) · slope +
    /// intercept) (or Float(x)) bit for bit, over every int16 value.
    func testInt16DecodingMatchesTheSwiftConversionOnEveryPath() {
        let values = (Int(Int16.min)...Int(Int16.max)).map { Int16($0) }
        for scaling in [nil, (slope: 0.0123456789, intercept: -17.25), (slope: 1.0, intercept: 0.0), (slope: -3e-3, intercept: 1e4)] {
            var portable = [Float](repeating: 0, count: values.count)
            pipe_decode_i16_portable(values, values.count, scaling == nil ? 0 : 1, scaling?.slope ?? 1, scaling?.intercept ?? 0, &portable)
            let expected = values.map { v -> Float in scaling.map { Float(Double(v) * $0.slope + $0.intercept) } ?? Float(v) }
            onEveryKernelPath { path in
                // From an odd offset, for a tail after the vector chunks.
                var dispatched = [Float](repeating: .nan, count: values.count - 3)
                values.withUnsafeBufferPointer { v in
                    pipe_decode_i16(v.baseAddress! + 3, values.count - 3, scaling == nil ? 0 : 1, scaling?.slope ?? 1, scaling?.intercept ?? 0, &dispatched)
                }
                XCTAssertEqual(dispatched.map(\.bitPattern), portable.dropFirst(3).map(\.bitPattern), path)
            }
            XCTAssertEqual(portable.map(\.bitPattern), expected.map(\.bitPattern), "scaling \(String(describing: scaling))")
        }
    }

    /// Widening to Float64 is exact on every path, special values included.
    func testWideningIsExactOnEveryPath() {
        var gauss = StatsGaussian(seed: 31)
        let specials: [Float] = [0, -0, .infinity, -.infinity, .leastNonzeroMagnitude, -.leastNormalMagnitude, .greatestFiniteMagnitude, .nan]
        let values = specials + gauss.array(1037).map { Float($0 * 1e3) }
        var portable = [Double](repeating: 0, count: values.count)
        pipe_widen_portable(values, &portable, values.count)
        XCTAssertEqual(portable.dropLast(1037).map(\.bitPattern), specials.map { Double($0).bitPattern })
        XCTAssertEqual(portable.dropFirst(specials.count), values.dropFirst(specials.count).map { Double($0) }[...])
        onEveryKernelPath { path in
            var dispatched = [Double](repeating: 1, count: values.count)
            pipe_widen(values, &dispatched, values.count)
            XCTAssertEqual(dispatched.map(\.bitPattern), portable.map(\.bitPattern), path)
        }
    }
}
