import Foundation

/// A 4x4 affine from voxel indices (i, j, k) to world coordinates (x, y, z) in millimetres.
///
/// Row-major storage; the last row is (0, 0, 0, 1) for every affine pipe builds.
public struct Affine: Sendable, Equatable, CustomStringConvertible {
    /// Row-major elements, `m[4 * row + column]`.
    public var m: [Double]

    /// The identity.
    public static let identity = Affine(rows: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])

    /// Builds an affine from four rows of four numbers (or three rows, with (0, 0, 0, 1) appended).
    public init(rows: [[Double]]) {
        precondition(rows.count == 3 || rows.count == 4, "an affine has 3 or 4 rows")
        precondition(rows.allSatisfy { $0.count == 4 }, "an affine row has 4 numbers")
        m = rows.flatMap { $0 } + (rows.count == 3 ? [0, 0, 0, 1] : [])
    }

    public subscript(row: Int, column: Int) -> Double {
        get { m[4 * row + column] }
        set { m[4 * row + column] = newValue }
    }

    /// The rows as arrays.
    public var rows: [[Double]] { (0..<4).map { r in (0..<4).map { self[r, $0] } } }

    /// Column norms of the 3x3 linear part: the voxel sizes in mm (nilearn and nibabel's zooms).
    public var voxelSizes: [Double] {
        (0..<3).map { c in ((0..<3).map { self[$0, c] * self[$0, c] }.reduce(0, +)).squareRoot() }
    }

    /// Maps a voxel index (possibly fractional) to world coordinates.
    public func apply(_ p: [Double]) -> [Double] {
        (0..<3).map { r in self[r, 0] * p[0] + self[r, 1] * p[1] + self[r, 2] * p[2] + self[r, 3] }
    }

    /// The matrix product `self * other`.
    public static func * (lhs: Affine, rhs: Affine) -> Affine {
        var out = Affine.identity
        for r in 0..<4 {
            for c in 0..<4 {
                out[r, c] = (0..<4).map { lhs[r, $0] * rhs[$0, c] }.reduce(0, +)
            }
        }
        return out
    }

    /// The inverse, or nil when the linear part is singular.
    public var inverse: Affine? {
        let a = Matrix3(self)
        guard let inv = a.inverse else { return nil }
        var out = Affine.identity
        for r in 0..<3 {
            for c in 0..<3 { out[r, c] = inv[r, c] }
            out[r, 3] = -(0..<3).map { inv[r, $0] * self[$0, 3] }.reduce(0, +)
        }
        return out
    }

    /// Whether every element is within `tolerance` of `other`'s.
    public func isClose(to other: Affine, tolerance: Double = 1e-6) -> Bool {
        zip(m, other.m).allSatisfy { abs($0 - $1) <= tolerance }
    }

    public var description: String {
        rows.map { row in row.map { formatNumber($0) }.joined(separator: " ") }.joined(separator: "\n")
    }
}

/// A 3x3 matrix, row-major, for the linear part of an affine.
struct Matrix3: Equatable {
    var m: [Double]

    init(_ m: [Double]) { self.m = m }

    init(_ affine: Affine) {
        m = (0..<3).flatMap { r in (0..<3).map { affine[r, $0] } }
    }

    subscript(row: Int, column: Int) -> Double {
        get { m[3 * row + column] }
        set { m[3 * row + column] = newValue }
    }

    var determinant: Double {
        self[0, 0] * (self[1, 1] * self[2, 2] - self[1, 2] * self[2, 1])
            - self[0, 1] * (self[1, 0] * self[2, 2] - self[1, 2] * self[2, 0])
            + self[0, 2] * (self[1, 0] * self[2, 1] - self[1, 1] * self[2, 0])
    }

    var transposed: Matrix3 {
        var t = self
        for r in 0..<3 { for c in 0..<3 { t[r, c] = self[c, r] } }
        return t
    }

    var inverse: Matrix3? {
        let det = determinant
        guard det != 0, det.isFinite else { return nil }
        var inv = Matrix3([Double](repeating: 0, count: 9))
        for r in 0..<3 {
            for c in 0..<3 {
                let r1 = (c + 1) % 3, r2 = (c + 2) % 3, c1 = (r + 1) % 3, c2 = (r + 2) % 3
                inv[r, c] = (self[r1, c1] * self[r2, c2] - self[r1, c2] * self[r2, c1]) / det
            }
        }
        return inv
    }

    /// Frobenius norm.
    var norm: Double { m.map { $0 * $0 }.reduce(0, +).squareRoot() }

    /// The orthogonal matrix nearest to this one (the polar factor), by scaled Newton iteration
    /// X <- (g X + X^-T / g) / 2, as `nifti_mat33_polar` does. Returns nil when singular.
    var polarFactor: Matrix3? {
        var x = self
        for _ in 0..<100 {
            guard let inv = x.inverse else { return nil }
            let z = inv.transposed
            let gamma = (z.norm / x.norm).squareRoot()
            var next = x
            for i in 0..<9 { next.m[i] = 0.5 * (gamma * x.m[i] + z.m[i] / gamma) }
            let change = zip(next.m, x.m).map { abs($0 - $1) }.max() ?? 0
            x = next
            if change < 1e-15 { break }
        }
        return x
    }
}

/// Formats a number compactly for summaries: `%.6g`, so integers print without a fraction.
func formatNumber(_ v: Double) -> String {
    if v.isNaN { return "nan" }
    if v.isInfinite { return v > 0 ? "inf" : "-inf" }
    if v == 0 { return "0" }
    return String(format: "%.6g", v)
}
