import Foundation

/// Charts as inline SVG (text stays text: no font rasteriser, sharp at any zoom, and the numbers
/// are searchable in the page). Every chart has a title, labelled axes with round ticks, and a
/// fixed size in CSS pixels; the same data give the same bytes.
public enum SVGChart {
    static let width = 380.0, height = 240.0
    static let left = 52.0, right = 14.0, top = 28.0, bottom = 42.0

    /// A histogram of `values` with `bins` equal bins, and a dashed red line at `threshold`;
    /// `yLabel` names what is counted.
    public static func histogram(_ values: [Double], title: String, xLabel: String, yLabel: String = "scans", threshold: Double? = nil,
                                 bins: Int = 20) -> String {
        let finite = values.filter(\.isFinite)
        guard let lo0 = finite.min(), let hi0 = finite.max() else { return empty(title) }
        var lo = lo0, hi = hi0
        if let threshold { lo = min(lo, threshold); hi = max(hi, threshold) }
        if hi - lo < 1e-12 { lo -= 0.5; hi += 0.5 }
        let (xTicks, xLo, xHi) = ticks(lo, hi)
        var counts = [Int](repeating: 0, count: bins)
        for v in finite { counts[min(bins - 1, max(0, Int((v - xLo) / (xHi - xLo) * Double(bins))))] += 1 }
        let (yTicks, _, yHi) = ticks(0, Double(counts.max() ?? 1))
        let plot = Frame(xLo: xLo, xHi: xHi, yLo: 0, yHi: yHi)
        var body = ""
        for (i, c) in counts.enumerated() where c > 0 {
            let x0 = plot.x(xLo + (xHi - xLo) * Double(i) / Double(bins)), x1 = plot.x(xLo + (xHi - xLo) * Double(i + 1) / Double(bins))
            body += "<rect x=\"\(f(x0))\" y=\"\(f(plot.y(Double(c))))\" width=\"\(f(max(x1 - x0 - 1, 0.5)))\" height=\"\(f(plot.y(0) - plot.y(Double(c))))\" fill=\"#5b7fa6\"/>"
        }
        if let threshold {
            body += "<line x1=\"\(f(plot.x(threshold)))\" x2=\"\(f(plot.x(threshold)))\" y1=\"\(f(top))\" y2=\"\(f(height - bottom))\" stroke=\"#c0392b\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>"
            let nearRight = plot.x(threshold) > width - right - 80
            body += "<text x=\"\(f(plot.x(threshold) + (nearRight ? -3 : 3)))\" y=\"\(f(top + 10))\" font-size=\"10\" fill=\"#c0392b\" text-anchor=\"\(nearRight ? "end" : "start")\">threshold \(number(threshold))</text>"
        }
        return frame(title: title, xLabel: xLabel, yLabel: yLabel, plot: plot, xTicks: xTicks, yTicks: yTicks, body: body)
    }

    /// A scatter plot; `fit` adds the least-squares line; `note` is printed in the top-left corner.
    /// `groups` (one label per point) colours the points and adds a legend.
    public static func scatter(x: [Double], y: [Double], groups: [String]? = nil, title: String, xLabel: String, yLabel: String,
                               fit: Bool = false, note: String? = nil, diagonal: Bool = false) -> String {
        let points = zip(x, y).filter { $0.0.isFinite && $0.1.isFinite }
        guard points.count > 0 else { return empty(title) }
        let (xTicks, xLo, xHi) = ticks(points.map(\.0).min()!, points.map(\.0).max()!)
        let (yTicks, yLo, yHi) = ticks(points.map(\.1).min()!, points.map(\.1).max()!)
        let plot = Frame(xLo: xLo, xHi: xHi, yLo: yLo, yHi: yHi)
        let levels = groups.map { Array(Set($0)).sorted() } ?? []
        var body = "", fitLine: [(Double, Double)] = []
        if diagonal {
            body += "<line x1=\"\(f(plot.x(xLo)))\" y1=\"\(f(plot.y(yLo)))\" x2=\"\(f(plot.x(xHi)))\" y2=\"\(f(plot.y(yHi)))\" stroke=\"#999\" stroke-dasharray=\"3 3\"/>"
        }
        for (i, (px, py)) in zip(x, y).enumerated() where px.isFinite && py.isFinite {
            let colour = groups.map { palette[levels.firstIndex(of: $0[i])! % palette.count] } ?? palette[0]
            body += "<circle cx=\"\(f(plot.x(px)))\" cy=\"\(f(plot.y(py)))\" r=\"3.2\" fill=\"\(colour)\" fill-opacity=\"0.8\"/>"
        }
        if fit, points.count >= 2 {
            let mx = points.map(\.0).reduce(0, +) / Double(points.count), my = points.map(\.1).reduce(0, +) / Double(points.count)
            let sxy = points.reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }, sxx = points.reduce(0) { $0 + ($1.0 - mx) * ($1.0 - mx) }
            if sxx > 0 {
                let slope = sxy / sxx, intercept = my - slope * mx
                let x0 = points.map(\.0).min()!, x1 = points.map(\.0).max()!
                fitLine = along([(plot.x(x0), plot.y(intercept + slope * x0)), (plot.x(x1), plot.y(intercept + slope * x1))])
                body += "<line x1=\"\(f(plot.x(x0)))\" y1=\"\(f(plot.y(intercept + slope * x0)))\" x2=\"\(f(plot.x(x1)))\" y2=\"\(f(plot.y(intercept + slope * x1)))\" stroke=\"#222\" stroke-width=\"1.5\"/>"
            }
        }
        if let note { body += "<text x=\"\(f(left + 6))\" y=\"\(f(top + 12))\" font-size=\"11\">\(escape(note))</text>" }
        body += legend(levels, points: points.map { (plot.x($0.0), plot.y($0.1)) }, lines: fitLine,
                       corners: note == nil ? Corner.allCases : [.topRight, .bottomRight, .bottomLeft])  // the note has the top left
        return frame(title: title, xLabel: xLabel, yLabel: yLabel, plot: plot, xTicks: xTicks, yTicks: yTicks, body: body)
    }

    /// Each subject's value at two sessions joined by a line, coloured by group.
    public static func prePost(pre: [Double], post: [Double], groups: [String], labels: (String, String), title: String, yLabel: String) -> String {
        let values = (pre + post).filter(\.isFinite)
        guard !values.isEmpty else { return empty(title) }
        let (yTicks, yLo, yHi) = ticks(values.min()!, values.max()!)
        let plot = Frame(xLo: -0.3, xHi: 1.3, yLo: yLo, yHi: yHi)
        let levels = Array(Set(groups)).sorted()
        var body = "", marks: [(Double, Double)] = []
        for i in pre.indices where pre[i].isFinite && post[i].isFinite {
            let colour = palette[levels.firstIndex(of: groups[i])! % palette.count]
            marks += along([(plot.x(0), plot.y(pre[i])), (plot.x(1), plot.y(post[i]))])
            body += "<line x1=\"\(f(plot.x(0)))\" y1=\"\(f(plot.y(pre[i])))\" x2=\"\(f(plot.x(1)))\" y2=\"\(f(plot.y(post[i])))\" stroke=\"\(colour)\" stroke-opacity=\"0.6\"/>"
        }
        for (k, t) in [labels.0, labels.1].enumerated() {
            body += "<text x=\"\(f(plot.x(Double(k))))\" y=\"\(f(height - bottom + 16))\" font-size=\"11\" text-anchor=\"middle\">\(escape(t))</text>"
        }
        body += legend(levels, lines: marks)
        return frame(title: title, xLabel: "", yLabel: yLabel, plot: plot, xTicks: [], yTicks: yTicks, body: body)
    }

    /// A series over time (`values[t]`, nil where undefined: the line breaks there), with the
    /// time points in `marked` shaded (censored volumes, say) and named `markedLabel` in a legend.
    public static func trace(_ values: [Double?], marked: [Int], markedLabel: String, title: String, xLabel: String, yLabel: String) -> String {
        let finite = values.compactMap { $0 }.filter(\.isFinite)
        guard !finite.isEmpty, values.count > 1 else { return empty(title) }
        let (xTicks, xLo, xHi) = ticks(0, Double(values.count - 1))
        let (yTicks, _, yHi) = ticks(0, finite.max()!)
        let plot = Frame(xLo: xLo, xHi: xHi, yLo: 0, yHi: yHi)
        var body = ""
        let half = (plot.x(1) - plot.x(0)) / 2
        for t in marked where t >= 0 && t < values.count {
            body += "<rect x=\"\(f(plot.x(Double(t)) - half))\" y=\"\(f(top))\" width=\"\(f(max(2 * half, 1)))\" height=\"\(f(height - top - bottom))\" fill=\"#f4b6b0\"/>"
        }
        var runs: [[String]] = [[]]
        for (t, v) in values.enumerated() {
            if let v, v.isFinite { runs[runs.count - 1].append("\(f(plot.x(Double(t)))),\(f(plot.y(v)))") } else if !runs[runs.count - 1].isEmpty { runs.append([]) }
        }
        for run in runs where run.count > 1 {
            body += "<polyline points=\"\(run.joined(separator: " "))\" fill=\"none\" stroke=\"#1f4e79\" stroke-width=\"1.2\"/>"
        }
        if !marked.isEmpty {
            let x = width - right - 16 - 6 * Double(markedLabel.count)
            body += "<rect x=\"\(f(x - 3))\" y=\"\(f(top - 1))\" width=\"\(f(width - right - x + 3))\" height=\"12\" fill=\"#fff\"/>"
            body += "<rect x=\"\(f(x))\" y=\"\(f(top + 1))\" width=\"8\" height=\"8\" fill=\"#f4b6b0\"/><text x=\"\(f(x + 12))\" y=\"\(f(top + 8))\" font-size=\"10\">\(escape(markedLabel))</text>"
        }
        return frame(title: title, xLabel: xLabel, yLabel: yLabel, plot: plot, xTicks: xTicks, yTicks: yTicks, body: body)
    }

    /// ROC curves, each a list of (false-positive rate, true-positive rate) points, with the chance
    /// diagonal.
    public static func roc(_ curves: [(name: String, points: [(Double, Double)])], title: String) -> String {
        let plot = Frame(xLo: 0, xHi: 1, yLo: 0, yHi: 1)
        var body = "<line x1=\"\(f(plot.x(0)))\" y1=\"\(f(plot.y(0)))\" x2=\"\(f(plot.x(1)))\" y2=\"\(f(plot.y(1)))\" stroke=\"#999\" stroke-dasharray=\"3 3\"/>"
        var marks: [(Double, Double)] = []
        for (k, curve) in curves.enumerated() {
            marks += along(curve.points.map { (plot.x($0.0), plot.y($0.1)) })
            let path = curve.points.map { "\(f(plot.x($0.0))),\(f(plot.y($0.1)))" }.joined(separator: " ")
            body += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(palette[k % palette.count])\" stroke-width=\"2\"/>"
        }
        // A curve better than chance runs along the top left; the bottom right is tried first.
        body += legend(curves.map(\.name), sorted: false, lines: marks, corners: [.bottomRight, .topLeft, .bottomLeft, .topRight])
        let t = [0, 0.25, 0.5, 0.75, 1.0]
        return frame(title: title, xLabel: "false-positive rate", yLabel: "true-positive rate", plot: plot, xTicks: t, yTicks: t, body: body)
    }

    /// A colour bar for a thresholded signed map, drawn as `BrainSlices.colourPosition` colours
    /// it: the negative range [−vmax, −threshold] on the left, the positive [threshold, vmax] on
    /// the right, the undrawn gap between them.
    public static func colorBar(_ map: ColorMap, vmax: Double, threshold: Double, label: String) -> String {
        let w = 130.0, h = 14.0, gap = 40.0, x0 = 20.0, y0 = 18.0
        func stops(_ sign: Double) -> String {
            (0...12).map { k -> String in
                let t = Double(k) / 12
                // Left to right: −vmax … −threshold, then threshold … vmax.
                let value = sign < 0 ? -(vmax - (vmax - threshold) * t) : threshold + (vmax - threshold) * t
                return "<stop offset=\"\(f(t * 100))%\" stop-color=\"\(map.hex(BrainSlices.colourPosition(value, threshold: threshold, vmax: vmax)))\"/>"
            }.joined()
        }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"360\" height=\"58\" viewBox=\"0 0 360 58\" role=\"img\" aria-label=\"colour bar\">"
        s += "<defs><linearGradient id=\"cbn\" x1=\"0\" x2=\"1\" y1=\"0\" y2=\"0\">\(stops(-1))</linearGradient>"
        s += "<linearGradient id=\"cbp\" x1=\"0\" x2=\"1\" y1=\"0\" y2=\"0\">\(stops(1))</linearGradient></defs>"
        s += "<text x=\"\(f(x0))\" y=\"12\" font-size=\"11\">\(escape(label))</text>"
        s += "<rect x=\"\(f(x0))\" y=\"\(f(y0))\" width=\"\(f(w))\" height=\"\(f(h))\" fill=\"url(#cbn)\" stroke=\"#555\" stroke-width=\"0.5\"/>"
        s += "<rect x=\"\(f(x0 + w + gap))\" y=\"\(f(y0))\" width=\"\(f(w))\" height=\"\(f(h))\" fill=\"url(#cbp)\" stroke=\"#555\" stroke-width=\"0.5\"/>"
        for (x, v) in [(x0, -vmax), (x0 + w, -threshold), (x0 + w + gap, threshold), (x0 + 2 * w + gap, vmax)] {
            s += "<line x1=\"\(f(x))\" x2=\"\(f(x))\" y1=\"\(f(y0 + h))\" y2=\"\(f(y0 + h + 4))\" stroke=\"#333\"/>"
            s += "<text x=\"\(f(x))\" y=\"\(f(y0 + h + 15))\" font-size=\"10\" text-anchor=\"middle\">\(number(v))</text>"
        }
        return s + "</svg>"
    }

    // MARK: - Building blocks

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]

    struct Frame {
        let xLo, xHi, yLo, yHi: Double
        func x(_ v: Double) -> Double { SVGChart.left + (v - xLo) / (xHi - xLo) * (SVGChart.width - SVGChart.left - SVGChart.right) }
        func y(_ v: Double) -> Double { SVGChart.height - SVGChart.bottom - (v - yLo) / (yHi - yLo) * (SVGChart.height - SVGChart.top - SVGChart.bottom) }
    }

    static func frame(title: String, xLabel: String, yLabel: String, plot: Frame, xTicks: [Double], yTicks: [Double], body: String) -> String {
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width))\" height=\"\(f(height))\" viewBox=\"0 0 \(f(width)) \(f(height))\" role=\"img\" aria-label=\"\(escape(title))\">"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>"
        s += "<text x=\"\(f(width / 2))\" y=\"16\" font-size=\"12\" font-weight=\"bold\" text-anchor=\"middle\">\(escape(title))</text>"
        let x0 = left, x1 = width - right, y0 = top, y1 = height - bottom
        s += "<line x1=\"\(f(x0))\" y1=\"\(f(y1))\" x2=\"\(f(x1))\" y2=\"\(f(y1))\" stroke=\"#333\"/><line x1=\"\(f(x0))\" y1=\"\(f(y0))\" x2=\"\(f(x0))\" y2=\"\(f(y1))\" stroke=\"#333\"/>"
        for t in xTicks {
            s += "<line x1=\"\(f(plot.x(t)))\" x2=\"\(f(plot.x(t)))\" y1=\"\(f(y1))\" y2=\"\(f(y1 + 4))\" stroke=\"#333\"/>"
            s += "<text x=\"\(f(plot.x(t)))\" y=\"\(f(y1 + 15))\" font-size=\"10\" text-anchor=\"middle\">\(number(t))</text>"
        }
        for t in yTicks {
            s += "<line x1=\"\(f(x0 - 4))\" x2=\"\(f(x0))\" y1=\"\(f(plot.y(t)))\" y2=\"\(f(plot.y(t)))\" stroke=\"#333\"/>"
            s += "<text x=\"\(f(x0 - 6))\" y=\"\(f(plot.y(t) + 3))\" font-size=\"10\" text-anchor=\"end\">\(number(t))</text>"
        }
        s += body
        s += "<text x=\"\(f((x0 + x1) / 2))\" y=\"\(f(height - 6))\" font-size=\"11\" text-anchor=\"middle\">\(escape(xLabel))</text>"
        s += "<text transform=\"translate(12 \(f((y0 + y1) / 2))) rotate(-90)\" font-size=\"11\" text-anchor=\"middle\">\(escape(yLabel))</text>"
        return s + "</svg>"
    }

    /// The corners of the plot area a legend may take.
    enum Corner: CaseIterable { case topRight, bottomRight, bottomLeft, topLeft }

    /// A legend of coloured squares, in the first of `corners` whose box covers the fewest of the
    /// chart's `points` and then of the samples of its `lines` (`along`; both in SVG pixels), on a
    /// white backing so that what it still covers does not run through its text. One level is
    /// named only when `sorted` is false (curves named by the caller, not groups found in the data).
    static func legend(_ levels: [String], sorted: Bool = true, points: [(Double, Double)] = [], lines: [(Double, Double)] = [],
                       corners: [Corner] = Corner.allCases) -> String {
        guard levels.count > 1 || !sorted else { return "" }
        // Room for the longest label at about 6 px a character, and 13 px a row.
        let boxWidth = 20 + 6 * Double(levels.map(\.count).max() ?? 0), boxHeight = 13 * Double(levels.count) + 4
        func origin(_ corner: Corner) -> (x: Double, y: Double) {
            let x = corner == .topRight || corner == .bottomRight ? width - right - 2 - boxWidth : left + 4
            let y = corner == .topRight || corner == .topLeft ? top + 1 - 4 : height - bottom - 4 - boxHeight
            return (x, y)
        }
        func covered(_ corner: Corner) -> (points: Int, lines: Int) {
            let (x, y) = origin(corner), pad = 3.5  // a point's radius and a little
            func count(_ marks: [(Double, Double)]) -> Int {
                marks.reduce(0) { n, m in n + (m.0 >= x - pad && m.0 <= x + boxWidth + pad && m.1 >= y - pad && m.1 <= y + boxHeight + pad ? 1 : 0) }
            }
            return (count(points), count(lines))
        }
        var best = corners[0], fewest = covered(best)
        for corner in corners.dropFirst() where fewest != (0, 0) {
            let n = covered(corner)
            if n < fewest { best = corner; fewest = n }
        }
        let (x0, y0) = origin(best)
        var s = "<rect x=\"\(f(x0))\" y=\"\(f(y0))\" width=\"\(f(boxWidth))\" height=\"\(f(boxHeight))\" fill=\"#fff\" fill-opacity=\"0.85\"/>"
        for (k, level) in levels.enumerated() {
            let y = y0 + 12 + Double(k) * 13
            s += "<rect x=\"\(f(x0 + 4))\" y=\"\(f(y - 8))\" width=\"8\" height=\"8\" fill=\"\(palette[k % palette.count])\"/>"
            s += "<text x=\"\(f(x0 + 16))\" y=\"\(f(y))\" font-size=\"10\">\(escape(level))</text>"
        }
        return s
    }

    /// Points every 4 px or so along a polyline, for `legend` to count how much of a line it covers.
    static func along(_ polyline: [(Double, Double)]) -> [(Double, Double)] {
        guard let first = polyline.first else { return [] }
        var out = [first]
        for (a, b) in zip(polyline, polyline.dropFirst()) {
            let steps = max(1, Int((hypot(b.0 - a.0, b.1 - a.1) / 4).rounded(.up)))
            for i in 1...steps {
                let t = Double(i) / Double(steps)
                out.append((a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t))
            }
        }
        return out
    }

    static func empty(_ title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width))\" height=\"40\" role=\"img\" aria-label=\"\(escape(title))\"><text x=\"8\" y=\"24\" font-size=\"12\">\(escape(title)): no values</text></svg>"
    }

    /// Round ticks covering [lo, hi] and the padded range they span.
    static func ticks(_ lo: Double, _ hi: Double) -> ([Double], Double, Double) {
        var lo = lo, hi = hi
        if hi - lo < 1e-12 { lo -= 1; hi += 1 }
        let raw = (hi - lo) / 5
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        let first = floor(lo / step) * step, last = ceil(hi / step) * step
        var out: [Double] = []
        var t = first
        while t <= last + step * 1e-9 { out.append(abs(t) < step * 1e-9 ? 0 : t); t += step }
        return (out, first, last)
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    /// A number as a tick or value label: up to 3 significant digits.
    public static func number(_ v: Double) -> String {
        if v == 0 { return "0" }
        let s = String(format: "%.3g", v)
        return s.replacingOccurrences(of: "-", with: "−")
    }

    /// Text safe inside XML and HTML.
    public static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
