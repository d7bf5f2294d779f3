/// Suggestions for misspelled names, by Levenshtein distance.
public enum EditDistance {
    /// The Levenshtein distance between `a` and `b` (insert, delete, substitute each cost 1).
    ///
    /// Complexity: O(|a|·|b|) time, O(|b|) space.
    public static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a.lowercased().unicodeScalars), y = Array(b.lowercased().unicodeScalars)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var prev = Array(0...y.count), cur = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            cur[0] = i
            for j in 1...y.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
            }
            swap(&prev, &cur)
        }
        return prev[y.count]
    }

    /// Names other tools give the same setting (nilearn's `fwhm`, `t_r`, `n_perm`; FSL's and
    /// AFNI's spellings), which no edit distance would lead to pipe's name.
    static let synonyms: [String: String] = [
        "fwhm": "smoothing_fwhm", "smoothing": "smoothing_fwhm", "smooth": "smoothing_fwhm", "smoothing_mm": "smoothing_fwhm",
        "t_r": "repetition_time", "tr": "repetition_time", "repetitiontime": "repetition_time",
        "n_perm": "permutations", "nperm": "permutations", "n_permutations": "permutations", "n_perms": "permutations",
        "highpass": "high_pass", "hp": "high_pass", "lowpass": "low_pass", "lp": "low_pass",
        "fd_threshold": "scrub_fd", "dvars_threshold": "scrub_std_dvars",
    ]

    /// The candidate another tool's name for it stands for, else the closest candidate within a
    /// distance of max(2, |name|/3), if any.
    public static func suggestion(for name: String, among candidates: [String]) -> String? {
        if let same = synonyms[name.lowercased()], candidates.contains(same) { return same }
        let limit = max(2, name.count / 3)
        var best: (String, Int)?
        for c in candidates {
            let d = distance(name, c)
            if d <= limit, best == nil || d < best!.1 { best = (c, d) }
        }
        return best?.0
    }

    /// " (did you mean 'x'?)" or "".
    public static func didYouMean(_ name: String, among candidates: [String]) -> String {
        suggestion(for: name, among: candidates).map { " (did you mean '\($0)'?)" } ?? ""
    }
}
