import Numerics

extension Matrix {
    /// The rows at `indices`, in that order.
    func selectingRows(_ indices: [Int]) -> Matrix {
        Matrix(rows: indices.count, columns: columns, data: indices.flatMap { row($0) })
    }
}
