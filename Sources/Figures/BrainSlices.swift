/// Orthogonal slices and maximum-intensity projections of a volume on an axis-aligned grid (an
/// affine that only scales, flips, permutes and shifts the voxel axes, as MNI-space derivatives
/// have), rendered to RGB pixels: a grey anatomical background with a thresholded statistical
/// overlay in a signed colour map, as nilearn's `plot_stat_map` and `plot_glass_brain` show them.
///
/// Views are drawn with superior (axial: anterior) at the top. `convention` decides where the
/// subject's left goes: `.neurological` (nilearn's default) shows left on the left of the image,
/// `.radiological` on the right; sagittal views show anterior on the right.
public struct BrainSlices: Sendable {
    public enum Convention: String, Sendable {
        case neurological
        case radiological
    }

    public enum View: String, Sendable, CaseIterable {
        case sagittal, coronal, axial
        /// The world axis a view holds fixed (0 x, 1 y, 2 z).
        public var fixedAxis: Int { self == .sagittal ? 0 : (self == .coronal ? 1 : 2) }
        /// The world axes shown across and up.
        var axes: (across: Int, up: Int) { self == .sagittal ? (1, 2) : (self == .coronal ? (0, 2) : (0, 1)) }
    }

    public struct Image: Sendable {
        public let width: Int
        public let height: Int
        /// RGB, rows top to bottom.
        public let rgb: [UInt8]
        /// The labels of the image's left and right edges ("L"/"R" or "P"/"A").
        public let leftEdge: String
        public let rightEdge: String
    }

    public struct GridError: Error, CustomStringConvertible {
        public let description: String
    }

    let dims: [Int]
    /// For each world axis: the voxel axis along it, the sign of the step, the step (mm) and the
    /// world coordinate of voxel index 0 along it.
    let axisOf: [Int]
    let sign: [Double]
    let step: [Double]
    let origin: [Double]
    public let convention: Convention
    /// Pixels per voxel.
    public let zoom: Int

    /// `affine`: the 3 × 4 voxel-to-world (mm) matrix, rows x, y, z.
    public init(dims: [Int], affine: [[Double]], convention: Convention = .neurological, zoom: Int = 3) throws {
        guard dims.count == 3, dims.allSatisfy({ $0 > 0 }), affine.count >= 3, affine.allSatisfy({ $0.count >= 4 }) else {
            throw GridError(description: "figures need a 3-D grid and a 3 x 4 affine; got dims \(dims)")
        }
        var axisOf = [Int](repeating: -1, count: 3), sign = [Double](repeating: 1, count: 3), step = [Double](repeating: 1, count: 3)
        var origin = [Double](repeating: 0, count: 3)
        for world in 0..<3 {
            let row = affine[world]
            let nonzero = (0..<3).filter { abs(row[$0]) > 1e-6 * max(abs(row[0]), abs(row[1]), abs(row[2])) }
            guard nonzero.count == 1, !axisOf.contains(nonzero[0]) else {
                throw GridError(description: "figures need an axis-aligned grid (an affine without rotation or shear); row \(world) of the affine is \(row.prefix(4))")
            }
            axisOf[world] = nonzero[0]
            sign[world] = row[nonzero[0]] > 0 ? 1 : -1
            step[world] = abs(row[nonzero[0]])
            origin[world] = row[3]
        }
        self.dims = dims
        self.axisOf = axisOf
        self.sign = sign
        self.step = step
        self.origin = origin
        self.convention = convention
        self.zoom = max(1, zoom)
    }

    /// The voxel index along world axis `world` nearest to coordinate `mm`, clamped to the grid.
    public func index(world: Int, mm: Double) -> Int {
        let n = dims[axisOf[world]]
        let i = Int(((mm - origin[world]) / (sign[world] * step[world])).rounded())
        return min(max(i, 0), n - 1)
    }

    /// The world coordinate (mm) of voxel index `i` along world axis `world`.
    public func coordinate(world: Int, index i: Int) -> Double { origin[world] + sign[world] * step[world] * Double(i) }

    /// The flat index in the file (first voxel axis fastest) of the voxel at world-ordered indices.
    public func fileIndex(worldIndices w: [Int]) -> Int {
        var v = [0, 0, 0]
        for world in 0..<3 { v[axisOf[world]] = w[world] }
        return v[0] + dims[0] * (v[1] + dims[1] * v[2])
    }

    /// Number of voxels along world axis `world`.
    func count(_ world: Int) -> Int { dims[axisOf[world]] }

    /// Pixel columns run left to right over world-axis indices in this order.
    func acrossOrder(_ view: View) -> [Int] {
        let axis = view.axes.across
        // Index order that makes world coordinates increase left to right...
        var order = Array(0..<count(axis))
        if sign[axis] < 0 { order.reverse() }
        // ...which puts +x (the subject's right) on the right: neurological. Radiological flips x.
        if axis == 0 && convention == .radiological { order.reverse() }
        return order
    }

    func edges(_ view: View) -> (String, String) {
        if view.axes.across == 1 { return ("P", "A") }
        return convention == .neurological ? ("L", "R") : ("R", "L")
    }

    /// One slice through world coordinate `at` (mm) of `view`'s fixed axis: `background` in grey
    /// (scaled between `backgroundRange`; NaN is drawn white), and `overlay` where |value| ≥ `threshold`, coloured by
    /// `map` over [−vmax, vmax].
    public func slice(_ view: View, at mm: Double, background: [Float]?, backgroundRange: (Double, Double),
                      overlay: [Float]?, threshold: Double, vmax: Double, map: ColorMap = .coldHot) -> Image {
        let fixed = index(world: view.fixedAxis, mm: mm)
        return render(view) { across, up in
            var w = [0, 0, 0]
            w[view.fixedAxis] = fixed
            w[view.axes.across] = across
            w[view.axes.up] = up
            let v = fileIndex(worldIndices: w)
            return (background.map { Double($0[v]) }, overlay.map { Double($0[v]) })
        } background: { backgroundRange } overlay: { (threshold, vmax, map) }
    }

    /// The maximum-intensity projection along `view`'s fixed axis (a glass-brain view): the value
    /// of largest magnitude on each line of sight, over the silhouette of `mask` in light grey.
    public func projection(_ view: View, mask: [Bool], overlay: [Float], threshold: Double, vmax: Double, map: ColorMap = .coldHot) -> Image {
        render(view) { across, up in
            var w = [0, 0, 0]
            w[view.axes.across] = across
            w[view.axes.up] = up
            var best = 0.0, inside = false
            for k in 0..<count(view.fixedAxis) {
                w[view.fixedAxis] = k
                let v = fileIndex(worldIndices: w)
                if mask[v] { inside = true }
                let value = Double(overlay[v])
                if abs(value) > abs(best) { best = value }
            }
            return (inside ? 0.85 : 1.0, best)
        } background: { (0, 1) } overlay: { (threshold, vmax, map) }
    }

    /// Where a drawn value falls on a signed colour map: |value| from `threshold` to `vmax` spans
    /// 60 % to 95 % of each half (dark red to light yellow in `cold_hot`, dark blue to light cyan
    /// below zero), so that every drawn voxel is clearly coloured. (nilearn spans the whole map
    /// over [−vmax, vmax], which draws values near a high threshold almost white.)
    public static func colourPosition(_ value: Double, threshold: Double, vmax: Double) -> Double {
        let span = max(vmax - threshold, 1e-12)
        let t = min(max((abs(value) - threshold) / span, 0), 1)
        let half = 0.6 + 0.35 * t
        return value < 0 ? 0.5 - 0.5 * half : 0.5 + 0.5 * half
    }

    private func render(_ view: View, sample: (Int, Int) -> (Double?, Double?), background: () -> (Double, Double),
                        overlay: () -> (Double, Double, ColorMap)) -> Image {
        let across = acrossOrder(view)
        var upOrder = Array(0..<count(view.axes.up))
        if sign[view.axes.up] > 0 { upOrder.reverse() }  // the top row holds the largest coordinate
        let (lo, hi) = background()
        let (threshold, vmax, map) = overlay()
        let width = across.count * zoom, height = upOrder.count * zoom
        var rgb = [UInt8](repeating: 255, count: width * height * 3)
        for (row, u) in upOrder.enumerated() {
            for (column, a) in across.enumerated() {
                let (b, o) = sample(a, u)
                var pixel: (UInt8, UInt8, UInt8) = (255, 255, 255)
                if let b, b.isFinite {  // NaN: outside the background image, drawn white
                    let g = UInt8(min(max((b - lo) / max(hi - lo, 1e-12), 0), 1) * 255)
                    pixel = (g, g, g)
                }
                if let o, o.isFinite, abs(o) >= threshold, o != 0 {
                    pixel = map.rgb(Self.colourPosition(o, threshold: threshold, vmax: vmax))
                }
                for dy in 0..<zoom {
                    var p = ((row * zoom + dy) * width + column * zoom) * 3
                    for _ in 0..<zoom {
                        rgb[p] = pixel.0; rgb[p + 1] = pixel.1; rgb[p + 2] = pixel.2
                        p += 3
                    }
                }
            }
        }
        let (left, right) = edges(view)
        return Image(width: width, height: height, rgb: rgb, leftEdge: left, rightEdge: right)
    }
}
