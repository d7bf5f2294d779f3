import Foundation

/// Which aCompCor components a confound term selects, by the confounds file's JSON sidecar, as
/// nilearn's `load_confounds(strategy=["compcor"], compcor="anat_combined" | "anat_separated",
/// n_compcor=...)` does.
///
/// Syntax: `acompcor[:MASKS][:N]`.
/// - `MASKS`: `combined` (the default; the components of fMRIPrep's combined WM+CSF mask) or
///   `separated` (N components of the WM mask and N of the CSF mask);
/// - `N`: a whole number of components (per mask), `all` (the default), or a fraction in (0, 1):
///   the fewest leading components whose `CumulativeVarianceExplained` reaches it.
/// So `acompcor:5` is the first 5 components of the combined mask, `acompcor:combined:0.5` those
/// explaining half its variance, `acompcor:separated:all` every WM and CSF component.
///
/// The components of a mask are the sidecar's entries with `"Method": "aCompCor"`, that `"Mask"`
/// (`combined`, `CSF`, `WM`), and `"Retained"` true (or absent), whose column is in the TSV, in
/// the TSV's column order; the selection keeps the TSV's column order too, as nilearn's does. This
/// serves both fMRIPrep layouts: the older
/// `desc-confounds_regressors.tsv`, where one `a_comp_cor_NN` sequence holds the combined, then
/// CSF, then WM components, and the newer `desc-confounds_timeseries.tsv` with `a_comp_cor_`
/// (combined), `c_comp_cor_` (CSF) and `w_comp_cor_` (WM). Names alone cannot tell the masks
/// apart in the older layout, so a missing sidecar is an error, never a guess.
public struct ACompCorSelection: Sendable, Equatable {
    /// How many components of each mask.
    public enum Count: Sendable, Equatable {
        case first(Int)
        case all
        case varianceFraction(Double)
    }

    /// The masks, in selection order (fMRIPrep's `Mask` values).
    public var masks: [String]
    public var count: Count
    /// The term as written, for messages.
    public var term: String

    /// Parses a term.
    /// - Throws: `InputError` at `path` and the term for a malformed one.
    public init(_ term: String, path: String) throws {
        self.term = term
        var parts = term.split(separator: ":", omittingEmptySubsequences: false).dropFirst().map { String($0).lowercased() }
        masks = ["combined"]
        if let first = parts.first, ["combined", "separated"].contains(first) {
            masks = first == "combined" ? ["combined"] : ["WM", "CSF"]
            parts.removeFirst()
        }
        let syntax = "expected acompcor[:combined|:separated][:N], N a whole number of components, all, or a variance fraction in (0, 1)"
        switch parts.count {
        case 0: count = .all
        case 1:
            if parts[0] == "all" { count = .all }
            else if let k = Int(parts[0]), k > 0 { count = .first(k) }
            else if let f = Double(parts[0]), f > 0, f < 1 { count = .varianceFraction(f) }
            else { throw InputError(path: path, field: term, syntax) }
        default: throw InputError(path: path, field: term, syntax)
        }
    }

    /// The confounds file's JSON sidecar: its path with `.tsv` replaced by `.json`.
    public static func sidecarPath(of confounds: String) -> String {
        (confounds.hasSuffix(".tsv") ? String(confounds.dropLast(4)) : confounds) + ".json"
    }

    /// The selected column names of `table`.
    /// - Throws: `InputError` for a missing or malformed sidecar, a mask without components, or
    ///   fewer components (or less variance) than asked.
    public func columns(in table: ConfoundsTable) throws -> [String] {
        let sidecar = Self.sidecarPath(of: table.path)
        guard let data = FileManager.default.contents(atPath: sidecar) else {
            throw InputError(path: sidecar, field: term, "the confounds file's JSON sidecar is missing; aCompCor components are chosen by "
                             + "its Mask metadata (combined, CSF, WM), which their names do not give in fMRIPrep's older layout. "
                             + "Give the sidecar, or name the columns (e.g. a_comp_cor_00+a_comp_cor_01)")
        }
        guard let metadata = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw InputError(path: sidecar, field: term, "not a JSON object")
        }
        var out: [String] = []
        for mask in masks {
            let components = table.names.filter { name in
                guard let entry = metadata[name] as? [String: Any] else { return false }
                return (entry["Method"] as? String) == "aCompCor" && (entry["Mask"] as? String) == mask && (entry["Retained"] as? Bool ?? true)
            }
            guard !components.isEmpty else {
                throw InputError(path: sidecar, field: term, "no retained aCompCor component of the \(mask) mask (\"Method\": \"aCompCor\", \"Mask\": \"\(mask)\") "
                                 + "names a column of \(URL(fileURLWithPath: table.path).lastPathComponent)")
            }
            switch count {
            case .all: out += components
            case .first(let k):
                guard k <= components.count else {
                    throw InputError(path: sidecar, field: term, "the \(mask) mask has \(components.count) aCompCor components; ask for at most \(components.count), or all")
                }
                out += components.prefix(k)
            case .varianceFraction(let f):
                var reached: Int?
                var last = 0.0
                for (i, name) in components.enumerated() {
                    guard let cumulative = ((metadata[name] as? [String: Any])?["CumulativeVarianceExplained"] as? NSNumber)?.doubleValue else {
                        throw InputError(path: sidecar, field: name, "no CumulativeVarianceExplained, which \(term) needs")
                    }
                    last = cumulative
                    if cumulative >= f { reached = i + 1; break }
                }
                guard let reached else {
                    throw InputError(path: sidecar, field: term, "the retained \(mask) components explain \(last) of the variance, less than \(f); "
                                     + "ask for a smaller fraction, or all")
                }
                out += components.prefix(reached)
            }
        }
        // In the file's column order, as nilearn returns them (CSF before WM in fMRIPrep's files).
        let order = Dictionary(uniqueKeysWithValues: table.names.enumerated().map { ($1, $0) })
        return out.sorted { order[$0]! < order[$1]! }
    }
}
