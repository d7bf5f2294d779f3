import Foundation
import NIfTI
import PipelineEngine

/// A label image with its names (a BIDS `dseg.tsv` or FSL/nilearn-style `index name` table).
public struct AtlasLabels: Sendable {
    public var path: String
    public var shape: [Int]
    public var affine: Affine
    /// Label per voxel, x fastest.
    public var labels: [Int]
    /// Names by label value.
    public var names: [Int: String]

    public init(path: String, shape: [Int], affine: Affine, labels: [Int], names: [Int: String]) {
        self.path = path
        self.shape = shape
        self.affine = affine
        self.labels = labels
        self.names = names
    }

    /// Reads the image and its table: tab-separated with a header that has `index` and `name`
    /// columns, or lines of `index<TAB>name` / `index name`. The table is read by ``TSVTable``
    /// (LF, CRLF or CR line ends, an optional UTF-8 byte order mark); blank lines are skipped.
    /// - Throws: `InputError` naming the file: a voxel that is not a whole number in
    ///   0...2147483647, an unreadable table, a table line without an index and a name.
    public static func read(image: String, table: String?) throws -> AtlasLabels {
        // The shape from the header, before the data: a 4-D atlas is refused unread.
        let shape = try NIfTIFile.readHeader(image).header.shape
        guard shape.count == 3 || (shape.count == 4 && shape[3] == 1) else {
            throw InputError(path: image, field: "dim", "an atlas must be a 3-D label image, got \(shape)")
        }
        let nifti = try NIfTIFile.read(image, as: Float.self)
        var labels = [Int](repeating: 0, count: nifti.data.count)
        for (i, v) in nifti.data.enumerated() {
            guard v.isFinite, v >= 0, v == v.rounded(), v <= Float(Int32.max) else {
                let nx = nifti.shape[0], ny = nifti.shape[1]
                throw InputError(path: image, "voxel (\(i % nx), \(i / nx % ny), \(i / (nx * ny))) holds \(v); a label image holds whole numbers "
                                 + "in 0...2147483647 (was it resampled with interpolation? resample a label image by nearest neighbour)")
            }
            labels[i] = Int(v)
        }
        let names = try table.map(readTable) ?? [:]
        return AtlasLabels(path: image, shape: Array(nifti.shape.prefix(3)), affine: nifti.affine, labels: labels, names: names)
    }

    /// The distinct labels of the image, the background (0) included, in increasing order: marked
    /// in a table of flags when the largest label is below 2^22 (any atlas in use), else sorted.
    /// (A `Set` of the labels hashed each of a 2 mm atlas's 902,629 voxels: 20 ms.)
    public var distinctLabels: [Int] {
        guard let top = labels.max() else { return [] }
        guard top < 1 << 22 else { return Array(Set(labels)).sorted() }
        var seen = [Bool](repeating: false, count: top + 1)
        for l in labels { seen[l] = true }
        return seen.indices.filter { seen[$0] }
    }

    /// Reads a label table alone (no image): index → name. See ``read(image:table:)``.
    public static func readTable(_ table: String) throws -> [Int: String] {
        var names: [Int: String] = [:]
        let text: TSVTable
        do {
            text = try TSVTable.read(table)
        } catch let error as TSVTable.ReadError {
            throw InputError(path: table, "cannot read the label table: \(error.reason)")
        }
        var lines = text.lines.filter { !$0.cells.joined(separator: "\t").trimmingCharacters(in: .whitespaces).isEmpty }
        var indexColumn = 0, nameColumn = 1
        let header = lines.first?.cells.filter { !$0.isEmpty }.map { $0.lowercased() } ?? []
        if header.contains("index") || header.contains("name") {
            guard let i = header.firstIndex(of: "index"), let n = header.firstIndex(of: "name") else {
                throw InputError(path: table, "the header needs 'index' and 'name' columns")
            }
            indexColumn = i
            nameColumn = n
            lines.removeFirst()
        }
        for line in lines {
            let cells = line.cells.count > 1 ? line.cells.filter { !$0.isEmpty }
                : line.cells[0].split(separator: " ", maxSplits: 1).map(String.init)
            guard cells.count > max(indexColumn, nameColumn), let index = Int(cells[indexColumn].trimmingCharacters(in: .whitespaces)) else {
                throw InputError(path: table, field: "line \(line.line)", "expected an index and a name")
            }
            names[index] = cells[nameColumn].trimmingCharacters(in: .whitespaces)
        }
        return names
    }

    /// The labels a table gives the name `label`, in order (more than one: ambiguous).
    static func labels(named label: String, in names: [Int: String]) -> [Int] {
        names.filter { $0.value == label }.keys.sorted()
    }

    /// The label value of a name or a number given as text.
    /// - Throws: `InputError` for a name the table gives to several labels (which one is meant
    ///   is not known), or a label neither named nor in the image.
    public func value(of label: String) throws -> Int {
        let named = Self.labels(named: label, in: names)
        if named.count > 1 {
            throw InputError(path: path, field: label, "the atlas table names labels \(named.map(String.init).joined(separator: " and ")) so: give the number of the one meant")
        }
        if let match = named.first { return match }
        if let number = Int(label), labels.contains(number) { return number }
        throw InputError(path: path, field: label,
                         "no such atlas label" + EditDistance.didYouMean(label, among: names.values.sorted()))
    }

    /// The same atlas on a data grid, resampled once so that later lookups need no resampling.
    public func onGrid(_ shape: [Int], affine target: Affine) -> AtlasLabels {
        AtlasLabels(path: path, shape: Array(shape.prefix(3)), affine: target, labels: resampled(to: shape, affine: target), names: names)
    }

    /// The labels resampled (nearest neighbour) to a data grid (as they are when already on it).
    public func resampled(to shape: [Int], affine target: Affine) -> [Int] {
        if Array(self.shape.prefix(3)) == Array(shape.prefix(3)) && affine.isClose(to: target, tolerance: 1e-6) { return labels }
        return SeedGeometry.resampleNearest(labels.map { Float($0) }, shape: self.shape, affine: affine, to: shape, affine: target).map { Int($0) }
    }
}
