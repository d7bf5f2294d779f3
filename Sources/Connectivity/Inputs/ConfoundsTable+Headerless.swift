import Foundation
import PipelineEngine

/// Confounds files without a header line: SPM's realignment parameters, AFNI's `.1D` files and
/// plain numeric CSV or whitespace-separated tables.
///
/// A file is headerless when its first line that is neither blank nor an AFNI comment (`#`) is all
/// numbers, separated by tabs, spaces or commas. Its columns are named:
///
/// - SPM `rp_*.txt` with 6 columns: x, y, z translations (mm), then pitch, roll, yaw rotations
///   (radians), as SPM writes them: `trans_x`, `trans_y`, `trans_z`, `rot_x`, `rot_y`, `rot_z`
///   (fMRIPrep's names and units).
/// - AFNI `dfile*.1D` with 6 columns (3dvolreg `-1Dfile`, afni_proc.py's `dfile.r01.1D` and
///   `dfile_rall.1D`): roll, pitch, yaw (degrees, about the I-S, R-L and A-P axes), then dS, dL,
///   dP (mm): `rot_z`, `rot_x`, `rot_y` (converted to radians), `trans_z`, `trans_x`, `trans_y`.
///   AFNI's axes point left and posterior where fMRIPrep's (RAS) point right and anterior, so
///   `trans_x`, `trans_y` (and rotation signs) may be of opposite sign to fMRIPrep's; a regression
///   does not depend on the sign or scale of a column.
/// - any other file: `col_1` ... `col_n` (AFNI's `motion_*.1D` and other `.1D` files too: their
///   content cannot be told from their shape).
///
/// A motion file (the first two cases) also gets fMRIPrep's expansions of each parameter, so that
/// `24P` applies: `<name>_derivative1` (backward difference, the first row n/a as fMRIPrep writes
/// it, filled from the second row when selected, as for fMRIPrep's files), `<name>_power2` and
/// `<name>_derivative1_power2`.
extension ConfoundsTable {
    /// fMRIPrep's motion names, in SPM's column order.
    static let motionNames = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"]

    /// Reads `path` as a headerless numeric file; nil when its first line is not all numbers (a
    /// TSV with a header).
    /// - Throws: `InputError` for a file that cannot be read, a row with another number of
    ///   columns or a cell that is not a number (with its line).
    static func readHeaderless(_ path: String) throws -> ConfoundsTable? {
        try readHeaderlessRows(path)?.table
    }

    /// `readHeaderless`, with the line (from 1) each row was read from: blank and comment lines
    /// are not rows.
    static func readHeaderlessRows(_ path: String) throws -> (table: ConfoundsTable, lines: [Int])? {
        let bytes: [UInt8]
        do { bytes = try FileSystem.read(path) } catch {
            throw InputError(path: path, "cannot read the confounds file: \(ErrorReason.of(error))")
        }
        let body = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? bytes[3...] : bytes[...]
        func cells(_ line: Substring) -> [Substring] {
            line.split(whereSeparator: { $0 == "\t" || $0 == " " || $0 == "," })
        }
        // The first line that is neither blank nor a comment decides, before the rest is read: an
        // fMRIPrep TSV's header ends the look at once (a whole 250-column file was split into
        // lines here first, 12 ms of every read of one).
        var start = body.startIndex
        while start < body.endIndex {
            var end = start
            while end < body.endIndex && body[end] != 0x0A && body[end] != 0x0D { end += 1 }
            let line = String(decoding: body[start..<end], as: UTF8.self)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if !trimmed.isEmpty && !trimmed.hasPrefix("#") {
                if !cells(Substring(line)).allSatisfy({ Double($0) != nil }) { return nil }
                break
            }
            start = end + 1
        }
        let text = String(decoding: body, as: UTF8.self)
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .split(separator: "\n", omittingEmptySubsequences: false)
        var rows: [(line: Int, cells: [Substring])] = []
        for (i, line) in lines.enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            if rows.isEmpty && !cells(line).allSatisfy({ Double($0) != nil }) { return nil }
            rows.append((i + 1, cells(line)))
        }
        guard let width = rows.first?.cells.count else { return nil }
        var values = [[Double]](repeating: [], count: width)
        for row in rows {
            guard row.cells.count == width else {
                throw InputError(path: path, field: "line \(row.line)", "has \(row.cells.count) numbers; the first row has \(width)")
            }
            for (c, cell) in row.cells.enumerated() {
                guard let v = Double(cell) else {
                    throw InputError(path: path, field: "line \(row.line)", "holds '\(cell)' in column \(c + 1); expected a number (a file without a header line)")
                }
                values[c].append(v)
            }
        }
        let file = URL(fileURLWithPath: path).lastPathComponent
        var names = (1...width).map { "col_\($0)" }
        if width == 6 && file.hasPrefix("rp_") {
            names = motionNames
        } else if width == 6 && file.hasPrefix("dfile") && file.hasSuffix(".1D") {
            names = ["rot_z", "rot_x", "rot_y", "trans_z", "trans_x", "trans_y"]
            for c in 0..<3 { values[c] = values[c].map { $0 * .pi / 180 } }
        }
        var columns = Dictionary(uniqueKeysWithValues: zip(names, values))
        if names.contains("trans_x") {
            names = motionNames
            for base in motionNames {
                let x = columns[base]!
                let derivative = x.indices.map { $0 == 0 ? Double.nan : x[$0] - x[$0 - 1] }
                columns[base + "_derivative1"] = derivative
                columns[base + "_power2"] = x.map { $0 * $0 }
                columns[base + "_derivative1_power2"] = derivative.map { $0 * $0 }
                names += [base + "_derivative1", base + "_power2", base + "_derivative1_power2"]
            }
        }
        return (ConfoundsTable(path: path, names: names, columns: columns), rows.map(\.line))
    }
}
