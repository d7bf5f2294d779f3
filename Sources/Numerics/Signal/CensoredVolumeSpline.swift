/// Not-a-knot cubic-spline interpolation of censored volumes, as `scipy.interpolate.CubicSpline`
/// (default `bc_type="not-a-knot"`) fitted on the kept volumes — nilearn's `_interpolate_volumes`.
///
/// Knots are the kept frame times x_k = TR · (original index). Slopes s solve the tridiagonal
/// system scipy builds (interior rows: dx_i s_{i−1} + 2(dx_{i−1}+dx_i) s_i + dx_{i−1} s_{i+1} =
/// 3(dx_i m_{i−1} + dx_{i−1} m_i), m = divided differences; not-a-knot end rows); two knots give
/// the straight line, three the parabola (scipy's special cases). On [x_i, x_{i+1}] the value is
/// y_i + s_i d + c₂ d² + c₃ d³ with t = (s_i + s_{i+1} − 2m_i)/dx_i, c₃ = t/dx_i,
/// c₂ = (m_i − s_i)/dx_i − t.
///
/// The system depends only on the knots, so it is factored once (Thomas algorithm; scipy uses a
/// pivoted banded LU — identical in exact arithmetic) and solved for many series at a time.
struct CensoredVolumeSpline: Sendable {
    /// Working-series rows holding the knots, ascending.
    let knotRows: [Int]
    let dx: [Double]
    /// Tridiagonal factors: lower[i], c'[i] (upper / pivot), 1 / pivot.
    private let lower: [Double]
    private let upperPrime: [Double]
    private let inversePivot: [Double]
    /// (working row, interval index, offset from the interval's left knot) per interpolated row.
    let targets: [(row: Int, interval: Int, offset: Double)]

    /// - Parameters:
    ///   - knotRows: working rows of the kept volumes (ascending, ≥ 2 of them).
    ///   - knotTimes: their frame times.
    ///   - targets: (working row, frame time) of the rows to interpolate, each inside the knot range.
    init(knotRows: [Int], knotTimes x: [Double], targets: [(row: Int, time: Double)]) {
        precondition(knotRows.count >= 2 && knotRows.count == x.count)
        self.knotRows = knotRows
        let n = x.count
        let dx = (0..<(n - 1)).map { x[$0 + 1] - x[$0] }
        self.dx = dx
        var lo = [Double](repeating: 0, count: n), di = [Double](repeating: 0, count: n), up = [Double](repeating: 0, count: n)
        if n == 2 {
            // scipy: clamped with both end slopes = m₀ → the line. Encode as identity rows.
            di = [1, 1]
        } else if n == 3 {
            di[0] = 1; up[0] = 1
            lo[1] = dx[1]; di[1] = 2 * (dx[0] + dx[1]); up[1] = dx[0]
            lo[2] = 1; di[2] = 1
        } else {
            di[0] = dx[1]; up[0] = x[2] - x[0]
            for i in 1..<(n - 1) {
                lo[i] = dx[i]; di[i] = 2 * (dx[i - 1] + dx[i]); up[i] = dx[i - 1]
            }
            lo[n - 1] = x[n - 1] - x[n - 3]; di[n - 1] = dx[n - 2]
        }
        var cp = [Double](repeating: 0, count: n), inv = [Double](repeating: 0, count: n)
        for i in 0..<n {
            let pivot = di[i] - (i > 0 ? lo[i] * cp[i - 1] : 0)
            inv[i] = 1 / pivot
            cp[i] = up[i] * inv[i]
        }
        lower = lo
        upperPrime = cp
        inversePivot = inv
        self.targets = targets.map { target in
            // Interval: last knot ≤ time (scipy searchsorted side="right" − 1), clipped to n − 2.
            var k = 0
            var a = 0, b = n - 1
            while a <= b {
                let mid = (a + b) / 2
                if x[mid] <= target.time { k = mid; a = mid + 1 } else { b = mid - 1 }
            }
            k = min(k, n - 2)
            return (target.row, k, target.time - x[k])
        }
    }

    /// Doubles of workspace `apply` needs for `lanes` series.
    func workspaceCount(lanes: Int) -> Int { 2 * knotRows.count * lanes }

    /// Overwrites the target rows of `lanes` interleaved series (`data[row * lanes + j]`).
    func apply(_ data: UnsafeMutablePointer<Double>, lanes: Int, workspace: UnsafeMutablePointer<Double>) {
        let n = knotRows.count
        let slope = workspace            // divided differences m_i, (n − 1) x lanes
        let s = workspace + n * lanes    // first derivatives, n x lanes
        for i in 0..<(n - 1) {
            let y0 = data + knotRows[i] * lanes, y1 = data + knotRows[i + 1] * lanes
            let inv = 1 / dx[i]
            let m = slope + i * lanes
            for j in 0..<lanes { m[j] = (y1[j] - y0[j]) * inv }
        }
        // Right-hand side into s.
        if n == 2 {
            for j in 0..<lanes { s[j] = slope[j]; s[lanes + j] = slope[j] }
        } else if n == 3 {
            let m0 = slope, m1 = slope + lanes
            for j in 0..<lanes {
                s[j] = 2 * m0[j]
                s[lanes + j] = 3 * (dx[0] * m1[j] + dx[1] * m0[j])
                s[2 * lanes + j] = 2 * m1[j]
            }
        } else {
            let d0 = dx[0] + dx[1]
            for j in 0..<lanes {
                s[j] = ((dx[0] + 2 * d0) * dx[1] * slope[j] + dx[0] * dx[0] * slope[lanes + j]) / d0
            }
            for i in 1..<(n - 1) {
                let mPrev = slope + (i - 1) * lanes, mCur = slope + i * lanes, r = s + i * lanes
                let a = 3 * dx[i], b = 3 * dx[i - 1]
                for j in 0..<lanes { r[j] = a * mPrev[j] + b * mCur[j] }
            }
            let d1 = dx[n - 2] + dx[n - 3]
            let mA = slope + (n - 3) * lanes, mB = slope + (n - 2) * lanes, r = s + (n - 1) * lanes
            for j in 0..<lanes {
                r[j] = (dx[n - 2] * dx[n - 2] * mA[j] + (2 * d1 + dx[n - 2]) * dx[n - 3] * mB[j]) / d1
            }
        }
        if n > 2 {
            // Thomas: forward elimination, back substitution.
            for j in 0..<lanes { s[j] *= inversePivot[0] }
            for i in 1..<n {
                let r = s + i * lanes, prev = s + (i - 1) * lanes
                let l = lower[i], ip = inversePivot[i]
                for j in 0..<lanes { r[j] = (r[j] - l * prev[j]) * ip }
            }
            for i in stride(from: n - 2, through: 0, by: -1) {
                let r = s + i * lanes, nxt = s + (i + 1) * lanes
                let c = upperPrime[i]
                for j in 0..<lanes { r[j] -= c * nxt[j] }
            }
        }
        for target in targets {
            let i = target.interval, d = target.offset, h = dx[i]
            let y0 = data + knotRows[i] * lanes
            let m = slope + i * lanes, s0 = s + i * lanes, s1 = s + (i + 1) * lanes
            let out = data + target.row * lanes
            for j in 0..<lanes {
                let t = (s0[j] + s1[j] - 2 * m[j]) / h
                let c3 = t / h
                let c2 = (m[j] - s0[j]) / h - t
                out[j] = ((c3 * d + c2) * d + s0[j]) * d + y0[j]
            }
        }
    }
}
