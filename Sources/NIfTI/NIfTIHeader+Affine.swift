/// Affines from the header: qform, sform, nibabel's fallback, and their precedence.
///
/// Conventions follow nibabel (`Nifti1Header.get_qform`, `get_sform`, `get_best_affine`), which
/// pipe is cross-checked against:
/// - qform: quaternion (b, c, d) with a = sqrt(1 - b² - c² - d²) (a tiny negative radicand is
///   clamped to 0; a larger one means an invalid quaternion, which is renormalised as nifti1_io
///   does and reported by `validate()`), rotation times diag(|pixdim[1]|, |pixdim[2]|,
///   qfac·|pixdim[3]|) with qfac = -1 iff pixdim[0] = -1, plus the qoffsets.
/// - precedence: sform when sform_code > 0, else qform when qform_code > 0, else the fallback
///   affine: diag(-dx, dy, dz) centred on the middle voxel (nibabel's `get_base_affine`).
extension NIfTIHeader {
    /// qfac, the handedness of the qform: -1 when pixdim[0] is -1, else 1 (nibabel treats any other value as 1).
    public var qfac: Double { pixdim[0] == -1 ? -1 : 1 }

    /// The quaternion (a, b, c, d) of the qform rotation.
    var quaternion: (a: Double, b: Double, c: Double, d: Double) {
        var b = quaternB, c = quaternC, d = quaternD
        let w2 = 1 - (b * b + c * c + d * d)
        if w2 >= 0 { return (w2.squareRoot(), b, c, d) }
        if w2 > -3 * Double(Float.ulpOfOne) { return (0, b, c, d) }
        let n = (b * b + c * c + d * d).squareRoot()
        b /= n; c /= n; d /= n
        return (0, b, c, d)
    }

    /// Whether the quaternion (b, c, d) has norm above 1, which no rotation has.
    var hasInvalidQuaternion: Bool {
        1 - (quaternB * quaternB + quaternC * quaternC + quaternD * quaternD) <= -3 * Double(Float.ulpOfOne)
    }

    /// The qform affine, whatever `qform_code` says.
    public var qformAffine: Affine {
        let (w, x, y, z) = quaternion
        let nq = w * w + x * x + y * y + z * z
        var r = Matrix3([1, 0, 0, 0, 1, 0, 0, 0, 1])
        if nq >= Double.ulpOfOne {
            let s = 2 / nq
            let X = x * s, Y = y * s, Z = z * s
            let wX = w * X, wY = w * Y, wZ = w * Z
            let xX = x * X, xY = x * Y, xZ = x * Z
            let yY = y * Y, yZ = y * Z, zZ = z * Z
            r = Matrix3([1 - (yY + zZ), xY - wZ, xZ + wY,
                         xY + wZ, 1 - (xX + zZ), yZ - wX,
                         xZ - wY, yZ + wX, 1 - (xX + yY)])
        }
        let vox = [abs(pixdim[1]), abs(pixdim[2]), abs(pixdim[3]) * qfac]
        var out = Affine.identity
        for row in 0..<3 {
            for col in 0..<3 { out[row, col] = r[row, col] * vox[col] }
        }
        out[0, 3] = qoffsetX
        out[1, 3] = qoffsetY
        out[2, 3] = qoffsetZ
        return out
    }

    /// The sform affine, whatever `sform_code` says.
    public var sformAffine: Affine { Affine(rows: [srowX, srowY, srowZ]) }

    /// nibabel's fallback when neither form is set: diag(-dx, dy, dz), origin at the centre voxel.
    public var baseAffine: Affine {
        let dims = (1...3).map { Double(max(dim[0] >= Int64($0) ? dim[$0] : 1, 1)) }
        let zooms = (1...3).map { dim[0] >= Int64($0) ? abs(pixdim[$0]) : 1 }
        let signed = [-zooms[0], zooms[1], zooms[2]]
        var out = Affine.identity
        for i in 0..<3 {
            out[i, i] = signed[i]
            out[i, 3] = -(dims[i] - 1) / 2 * signed[i]
        }
        return out
    }

    /// The affine a reader should use: sform, then qform, then the fallback.
    public var affine: Affine {
        if sformCode != 0 { return sformAffine }
        if qformCode != 0 { return qformAffine }
        return baseAffine
    }

    /// Which of the three the `affine` comes from.
    public var affineSource: String {
        if sformCode != 0 { return "sform" }
        if qformCode != 0 { return "qform" }
        return "pixdim"
    }

    /// Stores `affine` in both the sform (exactly) and the qform (its nearest rigid-plus-zoom
    /// approximation, `nifti_mat44_to_quatern`), and sets pixdim[0...3] to match.
    public mutating func setAffine(_ affine: Affine, code: Int32 = 2) {
        srowX = (0..<4).map { affine[0, $0] }
        srowY = (0..<4).map { affine[1, $0] }
        srowZ = (0..<4).map { affine[2, $0] }
        sformCode = code
        qformCode = code
        qoffsetX = affine[0, 3]
        qoffsetY = affine[1, 3]
        qoffsetZ = affine[2, 3]

        var r = Matrix3(affine)
        var zooms = [Double](repeating: 0, count: 3)
        for c in 0..<3 {
            zooms[c] = ((0..<3).map { r[$0, c] * r[$0, c] }.reduce(0, +)).squareRoot()
            if zooms[c] == 0 {
                for row in 0..<3 { r[row, c] = row == c ? 1 : 0 }
                zooms[c] = 1
            } else {
                for row in 0..<3 { r[row, c] /= zooms[c] }
            }
        }
        var q = r.polarFactor ?? Matrix3([1, 0, 0, 0, 1, 0, 0, 0, 1])
        var qfacValue = 1.0
        if q.determinant < 0 {
            qfacValue = -1
            for row in 0..<3 { q[row, 2] = -q[row, 2] }
        }
        let (r11, r12, r13) = (q[0, 0], q[0, 1], q[0, 2])
        let (r21, r22, r23) = (q[1, 0], q[1, 1], q[1, 2])
        let (r31, r32, r33) = (q[2, 0], q[2, 1], q[2, 2])
        var a = r11 + r22 + r33 + 1, b: Double, c: Double, d: Double
        if a > 0.5 {
            a = 0.5 * a.squareRoot()
            b = 0.25 * (r32 - r23) / a
            c = 0.25 * (r13 - r31) / a
            d = 0.25 * (r21 - r12) / a
        } else {
            let xd = 1 + r11 - (r22 + r33), yd = 1 + r22 - (r11 + r33), zd = 1 + r33 - (r11 + r22)
            if xd > 1 {
                b = 0.5 * xd.squareRoot(); c = 0.25 * (r12 + r21) / b; d = 0.25 * (r13 + r31) / b; a = 0.25 * (r32 - r23) / b
            } else if yd > 1 {
                c = 0.5 * yd.squareRoot(); b = 0.25 * (r12 + r21) / c; d = 0.25 * (r23 + r32) / c; a = 0.25 * (r13 - r31) / c
            } else {
                d = 0.5 * zd.squareRoot(); b = 0.25 * (r13 + r31) / d; c = 0.25 * (r23 + r32) / d; a = 0.25 * (r21 - r12) / d
            }
            if a < 0 { b = -b; c = -c; d = -d }
        }
        quaternB = b
        quaternC = c
        quaternD = d
        pixdim[0] = qfacValue
        pixdim[1] = zooms[0]
        pixdim[2] = zooms[1]
        pixdim[3] = zooms[2]
    }

    /// Axis codes like "RAS" for the voxel axes, nibabel's `aff2axcodes` rule: normalise the
    /// columns, take the nearest orthogonal matrix, then give each voxel axis the world axis it
    /// is most aligned with, greedily. "?" for an axis with no direction.
    public var orientation: String { Self.axisCodes(affine) }

    /// Axis codes of any affine (see `orientation`).
    public static func axisCodes(_ affine: Affine) -> String {
        var r = Matrix3(affine)
        for c in 0..<3 {
            let norm = ((0..<3).map { r[$0, c] * r[$0, c] }.reduce(0, +)).squareRoot()
            if norm > 0 { for row in 0..<3 { r[row, c] /= norm } }
        }
        var q = r.polarFactor ?? r
        let positive = ["R", "A", "S"], negative = ["L", "P", "I"]
        var codes = ""
        for c in 0..<3 {
            let col = (0..<3).map { q[$0, c] }
            guard col.contains(where: { abs($0) > 1e-12 }) else { codes += "?"; continue }
            let out = (0..<3).max { abs(col[$0]) < abs(col[$1]) }!
            codes += col[out] < 0 ? negative[out] : positive[out]
            for cc in 0..<3 { q[out, cc] = 0 }
        }
        return codes
    }
}
