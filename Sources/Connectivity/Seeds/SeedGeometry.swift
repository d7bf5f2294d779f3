import NIfTI

/// Voxel sets for seeds and grid-to-grid label transfer.
///
/// Voxel indices are linear, x fastest: `i + nx * (j + ny * k)`.
public enum SeedGeometry {
    /// The voxels of an MNI sphere, by nilearn NiftiSpheresMasker's rule: every voxel (of
    /// `mask`, when given) whose centre lies at a world distance ≤ `radius` mm from `centre`, plus
    /// the voxel nearest the centre, `round(inverse(affine) · centre)` with round-half-even, when it
    /// is inside the grid (and mask). Sorted ascending. A centre or radius beyond 1e12 voxels of
    /// the grid (or not finite) gives no voxel.
    public static func sphere(centre: [Double], radius: Double, shape: [Int], affine: Affine, mask: [Bool]? = nil) -> [Int] {
        precondition(centre.count == 3 && shape.count >= 3)
        guard let inverse = affine.inverse else { return [] }
        let c = inverse.apply(centre)
        let sizes = affine.voxelSizes
        let minSize = max(sizes.min() ?? 1, 1e-6)
        // Far outside any grid (or not finite): no voxel, rather than a trapping Int conversion.
        let limit = 1e12
        guard c.allSatisfy({ abs($0) < limit }), radius.isFinite, radius / minSize < limit else { return [] }
        let reach = Int((radius / minSize).rounded(.up)) + 1
        var out: [Int] = []
        let nx = shape[0], ny = shape[1]
        let lo = (0..<3).map { max(0, Int(c[$0].rounded(.down)) - reach) }
        let hi = (0..<3).map { min(shape[$0] - 1, Int(c[$0].rounded(.up)) + reach) }
        if lo[0] <= hi[0] && lo[1] <= hi[1] && lo[2] <= hi[2] {
            for k in lo[2]...hi[2] {
                for j in lo[1]...hi[1] {
                    for i in lo[0]...hi[0] {
                        let v = i + nx * (j + ny * k)
                        if let mask, !mask[v] { continue }
                        let p = affine.apply([Double(i), Double(j), Double(k)])
                        let d2 = (0..<3).map { (p[$0] - centre[$0]) * (p[$0] - centre[$0]) }.reduce(0, +)
                        if d2 <= radius * radius { out.append(v) }
                    }
                }
            }
        }
        let nearest = c.map { Int($0.rounded(.toNearestOrEven)) }
        if (0..<3).allSatisfy({ nearest[$0] >= 0 && nearest[$0] < shape[$0] }) {
            let v = nearest[0] + nx * (nearest[1] + ny * nearest[2])
            if mask?[v] ?? true, !out.contains(v) {
                out.append(v)
                out.sort()
            }
        }
        return out
    }

    /// Nearest-neighbour resampling of a label or mask volume onto another grid through the two
    /// affines: target voxel → world → source voxel, rounded as scipy's order-0 interpolation
    /// does (floor(x + 0.5)); outside the source grid gives 0.
    /// A 1-D or 2-D shape counts as one voxel deep in the missing axes; a point that is not finite
    /// or lies outside the source grid gives 0 (no trapping conversion, whatever the affines).
    public static func resampleNearest(_ values: [Float], shape: [Int], affine: Affine, to targetShape: [Int], affine targetAffine: Affine) -> [Float] {
        let source = (0..<3).map { $0 < shape.count ? shape[$0] : 1 }, target = (0..<3).map { $0 < targetShape.count ? targetShape[$0] : 1 }
        guard let inverse = affine.inverse else { return [Float](repeating: 0, count: target.reduce(1, *)) }
        if source == target && affine.isClose(to: targetAffine, tolerance: 1e-6) { return values }
        let map = inverse * targetAffine
        let tx = target[0], ty = target[1], tz = target[2]
        var out = [Float](repeating: 0, count: tx * ty * tz)
        for k in 0..<tz {
            for j in 0..<ty {
                for i in 0..<tx {
                    let p = map.apply([Double(i), Double(j), Double(k)])
                    var s = [0, 0, 0], inside = true
                    for a in 0..<3 {
                        let x = (p[a] + 0.5).rounded(.down)
                        guard x >= 0 && x < Double(source[a]) else { inside = false; break }
                        s[a] = Int(x)
                    }
                    guard inside else { continue }
                    out[i + tx * (j + ty * k)] = values[s[0] + source[0] * (s[1] + source[1] * s[2])]
                }
            }
        }
        return out
    }
}
