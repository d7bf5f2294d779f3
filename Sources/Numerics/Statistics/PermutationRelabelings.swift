import Foundation

/// The relabelings of a permutation test (internal; shared by `PermutationTest.run` and `runF`,
/// so equal seeds give equal relabelings whatever the statistic).
///
/// - Sign flipping (one-sample designs): each relabeling is a vector of ±1 (as Int32); exhaustive
///   enumeration of all 2ⁿ vectors (mask bit i set → row i flipped) when 2ⁿ ≤ `permutations`.
/// - Row permutation: each relabeling lists row indices. Rows whose (tested, confound) values are
///   identical form exchangeability classes; the number of distinct relabelings is the multinomial
///   N = n!/∏mᵢ!, and when N ≤ `permutations` all N are enumerated once each, the identity
///   included (lexicographically from the sorted class sequence, so the identity comes first
///   when the rows are sorted by class) — see `PermutationTest.enumerateMultiset`.
/// - Random: `permutations` draws from xoshiro256** seeded with `options.seed`: sign bits from the
///   top bit of each word, permutations by Fisher–Yates from the last position down (Lemire bounded
///   integers). Drawn up front in order, so results do not depend on the core count.
struct PermutationRelabelings {
    /// Row indices (permutation) or ±1 (sign flipping) per relabeling.
    var relabelings: [[Int32]]
    /// True when all distinct relabelings were enumerated (the identity included once).
    var exhaustive: Bool

    /// - Parameters:
    ///   - rows: one row of raw design values per sample (tested values, then non-constant
    ///     confounds), used to find exchangeability classes; ignored for sign flipping.
    init(signFlip: Bool, rows: [[Double]], options: PermutationOptions) {
        let n = rows.count
        relabelings = []
        exhaustive = false
        guard options.permutations > 0 else { return }
        if signFlip {
            if options.exhaustive && n < 62 && (1 << n) <= options.permutations {
                exhaustive = true
                for mask in 0..<(1 << n) {
                    relabelings.append((0..<n).map { (mask >> $0) & 1 == 1 ? -1 : 1 })
                }
            }
        } else {
            var classOf = [Int](repeating: 0, count: n)
            var reps: [[Double]] = []
            for i in 0..<n {
                let row = rows[i]
                if let j = reps.firstIndex(of: row) { classOf[i] = j } else { classOf[i] = reps.count; reps.append(row) }
            }
            let counts = (0..<reps.count).map { c in classOf.filter { $0 == c }.count }
            func logFactorial(_ m: Int) -> Double { (0..<m).reduce(0.0) { $0 + Foundation.log(Double($1 + 1)) } }
            var logN = logFactorial(n)
            for m in counts { logN -= logFactorial(m) }
            let nDistinct = Foundation.exp(logN).rounded()
            if options.exhaustive && logN < 40 && nDistinct <= Double(options.permutations) {
                exhaustive = true
                relabelings = PermutationTest.enumerateMultiset(classOf: classOf)
            }
        }
        if !exhaustive {
            var rng = Xoshiro256StarStar(seed: options.seed)
            relabelings.reserveCapacity(options.permutations)
            for _ in 0..<options.permutations {
                if signFlip {
                    relabelings.append((0..<n).map { _ in rng.next() >> 63 == 1 ? -1 : 1 })
                } else {
                    var p = (0..<n).map { Int32($0) }
                    for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, rng.uniform(below: i + 1)) }
                    relabelings.append(p)
                }
            }
        }
    }
}
