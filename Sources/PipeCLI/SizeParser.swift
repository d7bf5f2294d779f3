import Foundation

/// Parses sizes like `8G`, `512M`, `1.5GiB`, `1000000` (bytes). Binary units. Sizes above
/// ``largest`` (and `inf`, `nan`) are refused rather than converted with a trap.
enum SizeParser {
    /// 1 PiB.
    static let largest: Double = 1_125_899_906_842_624

    static func bytes(_ text: String) -> UInt64? {
        var t = text.trimmingCharacters(in: .whitespaces).uppercased()
        if t.hasSuffix("IB") { t.removeLast(2) } else if t.hasSuffix("B") { t.removeLast() }
        var mult: Double = 1
        if let last = t.last, let p = ["K": 1.0, "M": 2.0, "G": 3.0, "T": 4.0][String(last)] {
            mult = pow(1024, p)
            t.removeLast()
        }
        guard let v = Double(t), v.isFinite, v > 0, v * mult <= largest, v * mult >= 1 else { return nil }
        return UInt64(v * mult)
    }
}
