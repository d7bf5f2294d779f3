import Foundation

/// An in-place iterative radix-2 complex FFT of a fixed power-of-two length.
///
/// Forward: X[k] = Σ_n x[n] e^{-2πi kn/N}; inverse: x[n] = (1/N) Σ_k X[k] e^{+2πi kn/N} (the 1/N is
/// applied by `inverse`), as numpy's `fft` / `ifft`. Twiddles are precomputed with `cos`/`sin` of
/// the exact angle (not by recurrence), so the error is O(ε log N).
///
/// Complexity: O(N log N) per transform; no allocation per call. Length 1 is the identity.
public struct RadixTwoFFT: Sendable {
    /// The transform length (a power of two, ≥ 1).
    public let count: Int
    private let cosTable: [Double]
    private let sinTable: [Double]
    private let bitReversal: [Int]

    /// A plan for length `count`, which must be a power of two.
    public init(count: Int) {
        precondition(count >= 1 && count & (count - 1) == 0, "FFT length \(count) is not a power of two")
        self.count = count
        let half = max(count / 2, 1)
        cosTable = (0..<half).map { cos(2 * Double.pi * Double($0) / Double(count)) }
        sinTable = (0..<half).map { sin(2 * Double.pi * Double($0) / Double(count)) }
        var rev = [Int](repeating: 0, count: count)
        var bits = 0
        while (1 << bits) < count { bits += 1 }
        for i in 0..<count {
            var r = 0, v = i
            for _ in 0..<bits { r = (r << 1) | (v & 1); v >>= 1 }
            rev[i] = r
        }
        bitReversal = rev
    }

    /// The smallest power of two ≥ `n` (1 for n ≤ 1), MATLAB's `2^nextpow2(n)`.
    public static func nextPowerOfTwo(_ n: Int) -> Int {
        var p = 1
        while p < n { p <<= 1 }
        return p
    }

    /// Forward transform in place of the real and imaginary parts (each `count` long).
    public func forward(re: inout [Double], im: inout [Double]) {
        precondition(re.count == count && im.count == count, "FFT input length must be \(count)")
        re.withUnsafeMutableBufferPointer { r in im.withUnsafeMutableBufferPointer { i in forward(re: r.baseAddress!, im: i.baseAddress!) } }
    }

    /// Inverse transform in place, including the 1/N scaling.
    public func inverse(re: inout [Double], im: inout [Double]) {
        precondition(re.count == count && im.count == count, "FFT input length must be \(count)")
        re.withUnsafeMutableBufferPointer { r in im.withUnsafeMutableBufferPointer { i in inverse(re: r.baseAddress!, im: i.baseAddress!) } }
    }

    /// Forward transform in place of `re`/`im` (each `count` long).
    func forward(re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>) {
        transform(re: re, im: im, sign: -1)
    }

    /// Inverse transform in place, including the 1/N scaling.
    func inverse(re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>) {
        transform(re: re, im: im, sign: 1)
        let s = 1 / Double(count)
        for i in 0..<count { re[i] *= s; im[i] *= s }
    }

    private func transform(re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>, sign: Double) {
        let n = count
        if n == 1 { return }
        bitReversal.withUnsafeBufferPointer { rev in
            for i in 0..<n {
                let j = rev[i]
                if j > i {
                    let tr = re[i]; re[i] = re[j]; re[j] = tr
                    let ti = im[i]; im[i] = im[j]; im[j] = ti
                }
            }
        }
        cosTable.withUnsafeBufferPointer { ct in
            sinTable.withUnsafeBufferPointer { st in
                var len = 2
                while len <= n {
                    let halfLen = len / 2
                    let step = n / len
                    var start = 0
                    while start < n {
                        for k in 0..<halfLen {
                            let wr = ct[k * step], wi = sign * st[k * step]
                            let a = start + k, b = a + halfLen
                            let xr = re[b] * wr - im[b] * wi
                            let xi = re[b] * wi + im[b] * wr
                            re[b] = re[a] - xr; im[b] = im[a] - xi
                            re[a] += xr; im[a] += xi
                        }
                        start += len
                    }
                    len <<= 1
                }
            }
        }
    }
}
