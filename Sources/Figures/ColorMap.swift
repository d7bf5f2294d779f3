/// Colour maps as matplotlib and nilearn define them, so pipe's figures look like the ones
/// researchers know: piecewise-linear segments per channel, sampled at any point of [0, 1].
public struct ColorMap: Sendable {
    /// (x, value) breakpoints per channel, x increasing from 0 to 1 (matplotlib's segment data
    /// with equal left and right values).
    let red: [(Double, Double)]
    let green: [(Double, Double)]
    let blue: [(Double, Double)]
    public let name: String

    /// matplotlib's `hot`: black, red, yellow, white.
    public static let hot = ColorMap(name: "hot",
                                     red: [(0, 0.0416), (0.365079, 1), (1, 1)],
                                     green: [(0, 0), (0.365079, 0), (0.746032, 1), (1, 1)],
                                     blue: [(0, 0), (0.746032, 0), (1, 1)])

    /// nilearn's `cold_hot` (its `_pigtailed_cmap` of `hot`): the upper half is `hot`; the lower
    /// half mirrors it with red, green and blue taken from hot's blue, green and red, so negative
    /// values run from white through cyan and blue to black at zero.
    public static let coldHot: ColorMap = {
        func mirrored(_ s: [(Double, Double)]) -> [(Double, Double)] { s.reversed().map { (0.5 * (1 - $0.0), $0.1) } }
        func upper(_ s: [(Double, Double)]) -> [(Double, Double)] { s.map { (0.5 * (1 + $0.0), $0.1) } }
        return ColorMap(name: "cold_hot",
                        red: mirrored(hot.blue) + upper(hot.red),
                        green: mirrored(hot.green) + upper(hot.green),
                        blue: mirrored(hot.red) + upper(hot.blue))
    }()

    /// matplotlib's `gray`.
    public static let gray = ColorMap(name: "gray", red: [(0, 0), (1, 1)], green: [(0, 0), (1, 1)], blue: [(0, 0), (1, 1)])

    init(name: String, red: [(Double, Double)], green: [(Double, Double)], blue: [(Double, Double)]) {
        self.name = name
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// The colour at `x` (clamped to [0, 1]) as 8-bit RGB, rounded as matplotlib's `bytes=True`
    /// does for a 256-entry table (x quantised to 1/255 steps first).
    public func rgb(_ x: Double) -> (UInt8, UInt8, UInt8) {
        let x = x.isNaN ? 0 : min(max(x, 0), 1)
        // matplotlib samples a colormap in N = 256 lookup entries: index ⌊x N⌋ (N − 1 at 1).
        let index = min(Int(x * 256), 255)
        // The table's abscissa as numpy's linspace(0, 1, 256) computes it, and the interpolation
        // in matplotlib's operation order, so that truncation to 8 bits agrees entry for entry.
        let q = Double(index) * (1.0 / 255)
        func channel(_ s: [(Double, Double)]) -> UInt8 {
            var value = s.last!.1
            for i in 1..<s.count where q <= s[i].0 {
                let (x0, y0) = s[i - 1], (x1, y1) = s[i]
                value = x1 > x0 ? (q - x0) / (x1 - x0) * (y1 - y0) + y0 : y1
                break
            }
            return UInt8(min(max(value * 255, 0), 255))
        }
        return (channel(red), channel(green), channel(blue))
    }

    /// The colour as a CSS hex string, `#rrggbb`.
    public func hex(_ x: Double) -> String {
        let (r, g, b) = rgb(x)
        return "#" + [r, g, b].map { String($0, radix: 16).leftPadded(2) }.joined()
    }
}

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
