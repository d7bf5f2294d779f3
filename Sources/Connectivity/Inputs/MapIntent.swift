import NIfTI

/// What a statistical map holds, as the NIfTI intent fields say it to FSL, SPM and nibabel.
///
/// NIfTI-1 codes: 2 correlation (intent_p1 = degrees of freedom), 3 t (p1 = df), 4 F (p1, p2 =
/// numerator and denominator df), 5 z, 1001 estimate, 1002 label. NIfTI has log10(p) (24) but no −log10 p,
/// so a `stat-logp` map carries code 0 with the name `-log10 p`: code 24 would tell a reader the
/// values are negative.
public enum MapIntent: Sendable, Equatable {
    case correlation(df: Double)
    case t(df: Double)
    case f(df1: Double, df2: Double)
    case z
    case negativeLog10P
    case estimate
    /// A label map (integer regions).
    case label
    /// A Fisher z-transformed correlation: no NIfTI code; named.
    case fisherZ

    /// Sets the header's intent code, parameters and name.
    public func apply(to header: inout NIfTIHeader) {
        header.intentP1 = 0; header.intentP2 = 0; header.intentP3 = 0
        switch self {
        case .correlation(let df): header.intentCode = 2; header.intentP1 = df; header.intentName = "Pearson r"
        case .t(let df): header.intentCode = 3; header.intentP1 = df; header.intentName = "t"
        case .f(let df1, let df2): header.intentCode = 4; header.intentP1 = df1; header.intentP2 = df2; header.intentName = "F"
        case .z: header.intentCode = 5; header.intentName = "z"
        case .negativeLog10P: header.intentCode = 0; header.intentName = "-log10 p"
        case .estimate: header.intentCode = 1001; header.intentName = "estimate"
        case .label: header.intentCode = 1002; header.intentName = "label"
        case .fisherZ: header.intentCode = 0; header.intentName = "Fisher z"
        }
    }
}
