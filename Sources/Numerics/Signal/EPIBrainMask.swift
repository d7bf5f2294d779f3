/// A brain mask estimated from EPI intensities, as nilearn `masking.compute_epi_mask` (0.14.1).
///
/// Data layout: 3D or 4D, x fastest (NIfTI order); the result is one Bool per voxel of the grid.
///
/// Steps (nilearn):
/// 1. mean over time (3D input: the volume itself);
/// 2. if `opening` > 0: smooth the mean with FWHM = 1 *voxel* (nilearn passes an identity affine),
///    Gaussian as `GaussianSmoothing`; voxels whose mean was NaN are put back to NaN;
/// 3. non-finite values → 0;
/// 4. sort all values (without zeros if `excludeZeros`); l = ⌊lowerCutoff·n⌋,
///    u = min(⌊upperCutoff·n⌋, n − 1); the largest gap s[i+1] − s[i] for i in l..<u (first one
///    on ties) sets the threshold ½(s[i] + s[i+1]); mask = mean ≥ threshold;
/// 5. if `opening` > 0: binary erosion `opening` times (6-neighbourhood cross, outside = 0);
/// 6. if `connected` and the mask is not empty: keep the largest 6-connected component (ties: the
///    component met first scanning x slowest, z fastest — scipy's label order on the (x, y, z)
///    array as we read it; ties are rare with real data);
/// 7. if `opening` > 0: dilation 2·`opening` times, then erosion `opening` times.
/// An empty mask (nilearn warns "Computed an empty mask") is returned as all `false`.
public struct EPIBrainMask: Sendable {
    public var lowerCutoff: Double = 0.2
    public var upperCutoff: Double = 0.85
    public var connected: Bool = true
    public var opening: Int = 2
    public var excludeZeros: Bool = false

    public init(lowerCutoff: Double = 0.2, upperCutoff: Double = 0.85, connected: Bool = true, opening: Int = 2, excludeZeros: Bool = false) {
        self.lowerCutoff = lowerCutoff
        self.upperCutoff = upperCutoff
        self.connected = connected
        self.opening = opening
        self.excludeZeros = excludeZeros
    }

    /// Computes the mask of `data` with `shape` [nx, ny, nz] or [nx, ny, nz, nt].
    /// - Throws: `SignalCleanError` for a bad shape or cut-offs leaving no histogram gap.
    public func compute(_ data: [Float], shape: [Int]) throws -> [Bool] { try computeKernel(data, shape: shape) }

    /// Computes the mask of a Double image (see the float32 overload).
    public func compute(_ data: [Double], shape: [Int]) throws -> [Bool] { try computeKernel(data, shape: shape) }

    func computeKernel<S: BinaryFloatingPoint & Sendable>(_ data: [S], shape: [Int]) throws -> [Bool] {
        guard shape.count == 3 || shape.count == 4, shape.allSatisfy({ $0 >= 1 }) else {
            throw SignalCleanError(.shapeMismatch, "shape must be 3 or 4 positive sizes, got \(shape)")
        }
        let nx = shape[0], ny = shape[1], nz = shape[2], nt = shape.count == 4 ? shape[3] : 1
        let nv = nx * ny * nz
        guard data.count == nv * nt else { throw SignalCleanError(.shapeMismatch, "\(data.count) values for shape \(shape)") }
        guard 0 <= lowerCutoff, lowerCutoff < upperCutoff, upperCutoff <= 1, opening >= 0 else {
            throw SignalCleanError(.invalidParameter, "need 0 ≤ lowerCutoff < upperCutoff ≤ 1 and opening ≥ 0")
        }
        var mean = [Double](repeating: 0, count: nv)
        for t in 0..<nt { for i in 0..<nv { mean[i] += Double(data[t * nv + i]) } }
        for i in 0..<nv { mean[i] /= Double(nt) }
        if opening > 0 {
            let nanMask = mean.map { $0.isNaN }
            try GaussianSmoothing(fwhm: [1], voxelSize: [1, 1, 1]).smooth(&mean, shape: [nx, ny, nz])
            for i in 0..<nv where nanMask[i] { mean[i] = .nan }
        }
        for i in 0..<nv where !mean[i].isFinite { mean[i] = 0 }
        var sorted = mean.sorted()
        if excludeZeros { sorted.removeAll { $0 == 0 } }
        let n = sorted.count
        let lo = Int((lowerCutoff * Double(n)).rounded(.down))
        let hi = min(Int((upperCutoff * Double(n)).rounded(.down)), n - 1)
        guard hi > lo else { throw SignalCleanError(.invalidParameter, "the cut-offs leave no intensity gap to threshold (\(n) values)") }
        var best = lo
        var bestGap = -Double.infinity
        for i in lo..<hi where sorted[i + 1] - sorted[i] > bestGap { bestGap = sorted[i + 1] - sorted[i]; best = i }
        let threshold = 0.5 * (sorted[best] + sorted[best + 1])
        var mask = mean.map { $0 >= threshold }
        let dims = (nx, ny, nz)
        if opening > 0 { for _ in 0..<opening { mask = EPIBrainMask.morph(mask, dims, erode: true) } }
        if connected && mask.contains(true) { mask = EPIBrainMask.largestComponent(mask, dims) }
        if opening > 0 {
            for _ in 0..<(2 * opening) { mask = EPIBrainMask.morph(mask, dims, erode: false) }
            for _ in 0..<opening { mask = EPIBrainMask.morph(mask, dims, erode: true) }
        }
        return mask
    }

    /// One binary erosion or dilation with the 6-neighbourhood cross; outside the grid is false.
    static func morph(_ m: [Bool], _ d: (Int, Int, Int), erode: Bool) -> [Bool] {
        let (nx, ny, nz) = d
        var out = m
        for z in 0..<nz {
            for y in 0..<ny {
                for x in 0..<nx {
                    let i = x + nx * (y + ny * z)
                    let neighbours = [
                        x > 0 ? m[i - 1] : false, x < nx - 1 ? m[i + 1] : false,
                        y > 0 ? m[i - nx] : false, y < ny - 1 ? m[i + nx] : false,
                        z > 0 ? m[i - nx * ny] : false, z < nz - 1 ? m[i + nx * ny] : false,
                    ]
                    out[i] = erode ? (m[i] && !neighbours.contains(false)) : (m[i] || neighbours.contains(true))
                }
            }
        }
        return out
    }

    /// The largest 6-connected component (first met in x-slowest scan order on ties).
    static func largestComponent(_ m: [Bool], _ d: (Int, Int, Int)) -> [Bool] {
        let (nx, ny, nz) = d
        var label = [Int](repeating: 0, count: m.count)
        var sizes: [Int] = [0]
        var stack: [Int] = []
        for x in 0..<nx {
            for y in 0..<ny {
                for z in 0..<nz {
                    let start = x + nx * (y + ny * z)
                    guard m[start], label[start] == 0 else { continue }
                    let id = sizes.count
                    sizes.append(0)
                    label[start] = id
                    stack.append(start)
                    while let i = stack.popLast() {
                        sizes[id] += 1
                        let xi = i % nx, yi = (i / nx) % ny, zi = i / (nx * ny)
                        var next: [Int] = []
                        if xi > 0 { next.append(i - 1) }
                        if xi < nx - 1 { next.append(i + 1) }
                        if yi > 0 { next.append(i - nx) }
                        if yi < ny - 1 { next.append(i + nx) }
                        if zi > 0 { next.append(i - nx * ny) }
                        if zi < nz - 1 { next.append(i + nx * ny) }
                        for j in next where m[j] && label[j] == 0 { label[j] = id; stack.append(j) }
                    }
                }
            }
        }
        var best = 1
        for id in 1..<sizes.count where sizes[id] > sizes[best] { best = id }
        return label.map { $0 == best }
    }
}
