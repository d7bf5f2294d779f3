/// A dense row-major matrix of `Double`.
///
/// Data convention for signals (as nilearn's `signal.py`): **samples x features**, i.e. one row per
/// time point (volume) and one column per voxel or regressor. Row-major storage keeps each volume
/// contiguous, the order NIfTI stores voxels in; kernels that run along time process blocks of
/// columns at a time.
public struct Matrix: Sendable, Equatable {
    public var rows: Int
    public var columns: Int
    /// Row-major elements, `data[row * columns + column]`.
    public var data: [Double]

    /// A rows x columns matrix filled with `value`.
    public init(rows: Int, columns: Int, repeating value: Double = 0) {
        precondition(rows >= 0 && columns >= 0)
        self.rows = rows
        self.columns = columns
        data = [Double](repeating: value, count: rows * columns)
    }

    /// A matrix from row-major data.
    public init(rows: Int, columns: Int, data: [Double]) {
        precondition(data.count == rows * columns, "data count \(data.count) != \(rows) x \(columns)")
        self.rows = rows
        self.columns = columns
        self.data = data
    }

    /// A matrix from an array of rows of equal length.
    public init(_ rowArrays: [[Double]]) {
        let columns = rowArrays.first?.count ?? 0
        precondition(rowArrays.allSatisfy { $0.count == columns }, "rows of unequal length")
        self.init(rows: rowArrays.count, columns: columns, data: rowArrays.flatMap { $0 })
    }

    /// A matrix whose columns are the given arrays (of equal length).
    public init(columns columnArrays: [[Double]]) {
        let rows = columnArrays.first?.count ?? 0
        var m = Matrix(rows: rows, columns: columnArrays.count)
        for (c, column) in columnArrays.enumerated() {
            precondition(column.count == rows, "columns of unequal length")
            for r in 0..<rows { m[r, c] = column[r] }
        }
        self = m
    }

    /// The n x n identity.
    public static func identity(_ n: Int) -> Matrix {
        var m = Matrix(rows: n, columns: n)
        for i in 0..<n { m[i, i] = 1 }
        return m
    }

    public subscript(row: Int, column: Int) -> Double {
        get { data[row * columns + column] }
        set { data[row * columns + column] = newValue }
    }

    /// Column `c` as an array.
    public func column(_ c: Int) -> [Double] { (0..<rows).map { self[$0, c] } }

    /// Row `r` as an array.
    public func row(_ r: Int) -> [Double] { Array(data[(r * columns)..<((r + 1) * columns)]) }

    /// The transpose.
    public var transposed: Matrix {
        var t = Matrix(rows: columns, columns: rows)
        for r in 0..<rows { for c in 0..<columns { t[c, r] = self[r, c] } }
        return t
    }

    /// The matrix product. Complexity: O(rows * columns * other.columns).
    public static func * (a: Matrix, b: Matrix) -> Matrix {
        precondition(a.columns == b.rows, "shape mismatch: \(a.rows)x\(a.columns) * \(b.rows)x\(b.columns)")
        var out = Matrix(rows: a.rows, columns: b.columns)
        a.data.withUnsafeBufferPointer { pa in
            b.data.withUnsafeBufferPointer { pb in
                out.data.withUnsafeMutableBufferPointer { po in
                    for i in 0..<a.rows {
                        for k in 0..<a.columns {
                            let aik = pa[i * a.columns + k]
                            if aik == 0 { continue }
                            let brow = k * b.columns, orow = i * b.columns
                            for j in 0..<b.columns { po[orow + j] += aik * pb[brow + j] }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Columns `range` as a new matrix.
    public func columns(_ range: Range<Int>) -> Matrix {
        var out = Matrix(rows: rows, columns: range.count)
        for r in 0..<rows { for (j, c) in range.enumerated() { out[r, j] = self[r, c] } }
        return out
    }

    /// Horizontal concatenation.
    public func appendingColumns(_ other: Matrix) -> Matrix {
        precondition(rows == other.rows, "row count mismatch")
        var out = Matrix(rows: rows, columns: columns + other.columns)
        for r in 0..<rows {
            for c in 0..<columns { out[r, c] = self[r, c] }
            for c in 0..<other.columns { out[r, columns + c] = other[r, c] }
        }
        return out
    }
}
