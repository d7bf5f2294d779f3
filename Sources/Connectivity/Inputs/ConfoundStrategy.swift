/// Which confound columns a cleaning step regresses out: named strategies after nilearn's
/// load_confounds and the DPABI/CONN conventions, plus explicit names and wildcards.
///
/// | strategy | columns |
/// | --- | --- |
/// | `6P` | trans_x..rot_z |
/// | `24P` | 6P, their derivatives, squares and squared derivatives (Friston-24) |
/// | `wm_csf` | white_matter, csf |
/// | `wm_csf_4` | wm/csf with derivatives, squares and squared derivatives |
/// | `gsr` | global_signal |
/// | `gsr_4` | global_signal with derivatives and squares |
/// | `acompcor[:MASKS][:N]` | aCompCor components chosen by the confounds JSON sidecar (``ACompCorSelection``) |
/// | `cosine` | every cosineNN column (fMRIPrep's 128 s high-pass basis) |
///
/// Terms combine with `+`, e.g. `24P+wm_csf` (DPABI's Friston-24 + WM + CSF) or
/// `24P+wm_csf+gsr`. Any other term is a column name or a wildcard (`a_comp_cor_0*`).
public struct ConfoundStrategy: Sendable, Equatable {
    public var terms: [String]

    public init(_ spec: String) {
        terms = spec.split(separator: "+").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    public init(terms: [String]) { self.terms = terms }

    static let motion = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"]

    /// The named strategies (for did-you-mean suggestions).
    public static let strategyNames = ["6P", "24P", "wm_csf", "wm_csf_4", "gsr", "gsr_4", "acompcor:5", "acompcor:combined:0.5",
                                       "acompcor:separated:all", "cosine"]

    static func expanded(_ bases: [String]) -> [String] {
        bases.flatMap { [$0, $0 + "_derivative1", $0 + "_power2", $0 + "_derivative1_power2"] }
    }

    /// The columns this strategy selects from `table`, in a stable order without duplicates.
    ///
    /// - Throws: `InputError` for a column the table lacks (named, with the file), a wildcard that
    ///   matches nothing, a malformed `acompcor` term, or an `acompcor` term the confounds JSON
    ///   sidecar cannot serve (missing, or fewer components than asked).
    public func columns(in table: ConfoundsTable) throws -> [String] {
        var out: [String] = []
        func add(_ names: [String]) {
            for n in names where !out.contains(n) { out.append(n) }
        }
        for term in terms {
            switch term.lowercased() {
            case "6p": add(Self.motion)
            case "24p": add(Self.expanded(Self.motion))
            case "wm_csf": add(["white_matter", "csf"])
            case "wm_csf_4": add(Self.expanded(["white_matter", "csf"]))
            case "gsr": add(["global_signal"])
            case "gsr_4": add(Self.expanded(["global_signal"]))
            case "cosine":
                let cosines = table.names(matching: "cosine*")
                if cosines.isEmpty { throw InputError(path: table.path, field: "cosine*", "no cosine columns in the confounds file") }
                add(cosines)
            default:
                if term.lowercased() == "acompcor" || term.lowercased().hasPrefix("acompcor:") {
                    add(try ACompCorSelection(term, path: table.path).columns(in: table))
                } else if term.contains("*") || term.contains("?") {
                    let matches = table.names(matching: term)
                    if matches.isEmpty { throw InputError(path: table.path, field: term, "no confound column matches this pattern") }
                    add(matches)
                } else {
                    add([term])
                }
            }
        }
        for name in out where table.columns[name] == nil {
            _ = try table.selecting([name])  // throws the precise missing-column error
        }
        return out
    }
}

import Foundation
