import Foundation
import NIfTI
import Numerics
import PipelineEngine

/// Subject maps on one grid, restricted to a group mask, as subjects × in-mask-voxel matrices.
///
/// Several sets of maps (e.g. pre and post) share one mask and one row order. The grid is the
/// first map's. A map on another grid is an error that names it, unless `resampling` is set:
/// `.linear` (trilinear, as scipy `map_coordinates(order=1)` and nilearn's continuous
/// resampling) or `.nearest`; points outside the source grid become 0, i.e. not covered.
///
/// The mask keeps voxels covered (finite and non-zero: a connectivity map is 0 outside the scan's
/// mask) in every map, or with `coverage` < 1 in at least that fraction of the subjects of every
/// set. A subject not covering a kept voxel gets the mean of the subjects that do, in that set:
/// it then adds nothing to a group difference there, which is conservative.
struct GroupMaps {
    enum Resampling: String, Codable, Sendable {
        case none, linear, nearest

        /// The `resample` parameter of a stage that reads maps (`group`, `longitudinal`, `roi`).
        static func read(_ params: ParameterReader) -> Resampling {
            let value = params.string("resample", default: Resampling.none.rawValue)
            guard let resampling = Resampling(rawValue: value) else {
                params.report("resample", "expected none, linear or nearest")
                return .none
            }
            return resampling
        }
    }

    var shape: [Int]
    var affine: Affine
    /// Per voxel of the grid, whether it is in the group mask.
    var mask: [Bool]
    /// Grid indices of the mask voxels, ascending.
    var voxels: [Int]
    /// One subjects × voxels matrix per set.
    var sets: [Matrix]
    /// Number of values filled with the voxel mean because a subject did not cover it.
    var filled: Int
    /// The first map's coordinate-system code, which the maps written carry.
    var xformCode: Int32 = 2

    var total: Int { shape.reduce(1, *) }
    var grid: MaskGrid { MaskGrid(nx: shape[0], ny: shape[1], nz: shape[2], mask: mask) }

    /// Loads `sets`, each a list of subjects in the same order, each subject with the map files
    /// of its runs (one or more): a subject's map is the mean of its runs' (`meanOfRuns`).
    /// - Throws: `InputError` naming the file for a grid mismatch (without resampling) or an empty mask.
    static func load(_ sets: [[[URL]]], coverage: Double, resampling: Resampling) throws -> GroupMaps {
        var shape: [Int] = [], affine = Affine.identity
        var code: Int32 = 2
        var images: [[[Float]]] = []
        var first = ""
        for subjects in sets {
            precondition(subjects.allSatisfy { !$0.isEmpty }, "every subject has a map")
            var loaded: [[Float]] = []
            try StageInputs.forEachImage(subjects.flatMap { $0 }) { url, image in
                if shape.isEmpty { shape = Array(image.shape.prefix(3)); affine = image.affine; first = url.path; code = LoadedScan.xformCode(of: image.header) }
                loaded.append(try Self.values(of: image, at: url.path, onGridOf: first, shape: shape, affine: affine, resampling: resampling))
            }
            // The runs of each subject, in order, averaged.
            var averaged: [[Float]] = [], next = 0
            for runs in subjects {
                averaged.append(runs.count == 1 ? loaded[next] : Self.meanOfRuns(Array(loaded[next..<(next + runs.count)])))
                next += runs.count
            }
            images.append(averaged)
        }
        let total = shape.reduce(1, *)
        var mask = [Bool](repeating: false, count: total)
        for v in 0..<total {
            mask[v] = images.allSatisfy { set in
                let covered = set.reduce(0) { $0 + ($1[v] != 0 && $1[v].isFinite ? 1 : 0) }
                return covered == set.count || (covered > 0 && Double(covered) >= coverage * Double(set.count) - 1e-9)
            }
        }
        let voxels = (0..<total).filter { mask[$0] }
        guard !voxels.isEmpty else {
            throw InputError(path: first, field: "mask", "the maps share no voxel\(coverage < 1 ? " at coverage \(coverage)" : "")")
        }
        var filled = 0
        let matrices = images.map { set in
            var y = Matrix(rows: set.count, columns: voxels.count)
            for (n, v) in voxels.enumerated() {
                var sum = 0.0, count = 0
                for (i, image) in set.enumerated() where image[v] != 0 && image[v].isFinite {
                    y[i, n] = Double(image[v]); sum += y[i, n]; count += 1
                }
                if count < set.count {
                    for (i, image) in set.enumerated() where !(image[v] != 0 && image[v].isFinite) { y[i, n] = sum / Double(count) }
                    filled += set.count - count
                }
            }
            return y
        }
        return GroupMaps(shape: shape, affine: affine, mask: mask, voxels: voxels, sets: matrices, filled: filled, xformCode: code)
    }

    /// A map's values on the grid (`shape`, `affine`) of the map at `first`: as they are when it is
    /// on that grid, else resampled as `resampling` says.
    /// - Throws: `InputError` naming `path`, its grid and the first map's, without resampling.
    static func values(of image: NIfTIImage<Float>, at path: String, onGridOf first: String, shape: [Int], affine: Affine,
                       resampling: Resampling) throws -> [Float] {
        let s = Array(image.shape.prefix(3))
        if s == shape && image.affine.isClose(to: affine, tolerance: 1e-4) { return Array(image.data.prefix(shape.reduce(1, *))) }
        switch resampling {
        case .none:
            throw InputError(path: path, field: "grid",
                             "\(s) with affine \(image.affine) differs from \(first)'s \(shape) with \(affine); set \"resample\": \"linear\" to resample the maps")
        case .nearest:
            return SeedGeometry.resampleNearest(image.data, shape: s, affine: image.affine, to: shape, affine: affine)
        case .linear:
            return resampleLinear(image.data, shape: s, affine: image.affine, to: shape, affine: affine)
        }
    }

    /// One subject's map from the maps of its runs at a session: at each voxel that every run
    /// covers (finite and non-zero), the mean of the runs' values (summed in Float64 in run order,
    /// then rounded to Float32); 0 (not covered) elsewhere. One run is returned as it is.
    ///
    /// Each run weighs the same, whatever its number of kept volumes (concatenating the runs'
    /// series before correlating, the other common choice, would weigh them by length). A voxel
    /// outside one run's mask is not covered, as the group mask (`intersection` by default)
    /// treats a voxel outside one subject's.
    static func meanOfRuns(_ runs: [[Float]]) -> [Float] {
        guard runs.count > 1 else { return runs[0] }
        let n = runs.map(\.count).min()!
        var out = [Float](repeating: 0, count: n)
        for v in 0..<n {
            var sum = 0.0, covered = true
            for run in runs {
                let x = run[v]
                if x == 0 || !x.isFinite { covered = false; break }
                sum += Double(x)
            }
            if covered { out[v] = Float(sum / Double(runs.count)) }
        }
        return out
    }

    /// Writes one value per mask voxel as a float32 map on the grid (0 outside the mask), with
    /// the input maps' coordinate-system code and the statistical intent.
    func write(_ values: [Double], to path: String, intent: MapIntent? = nil) throws {
        var full = [Float](repeating: 0, count: total)
        for (n, v) in voxels.enumerated() { full[v] = Float(values[n]) }
        var image = NIfTIImage(shape: shape, affine: affine, data: full, code: xformCode)
        intent?.apply(to: &image.header)
        try NIfTIFile.write(image, to: path, options: .taskOutput)
    }

    /// Trilinear resampling through the affines (target voxel → world → source voxel), with
    /// scipy `map_coordinates(order=1, mode="constant", cval=0)` semantics: a point outside the
    /// source grid is 0, and so is one whose interpolation touches a voxel outside it.
    static func resampleLinear(_ values: [Float], shape: [Int], affine: Affine, to targetShape: [Int], affine targetAffine: Affine) -> [Float] {
        let tx = targetShape[0], ty = targetShape[1], tz = targetShape[2]
        var out = [Float](repeating: 0, count: tx * ty * tz)
        guard let inverse = affine.inverse else { return out }
        let map = inverse * targetAffine
        let sx = shape[0], sy = shape[1], sz = shape[2]
        for k in 0..<tz {
            for j in 0..<ty {
                for i in 0..<tx {
                    let p = map.apply([Double(i), Double(j), Double(k)])
                    let lo = p.map { Int($0.rounded(.down)) }
                    guard lo[0] >= 0, lo[1] >= 0, lo[2] >= 0 else { continue }
                    let fx = p[0] - Double(lo[0]), fy = p[1] - Double(lo[1]), fz = p[2] - Double(lo[2])
                    // On the last plane the upper neighbour has weight 0 and may lie outside.
                    let hx = fx > 0 ? 1 : 0, hy = fy > 0 ? 1 : 0, hz = fz > 0 ? 1 : 0
                    guard lo[0] + hx < sx, lo[1] + hy < sy, lo[2] + hz < sz else { continue }
                    var acc = 0.0
                    for c in 0..<8 {
                        let dx = c & 1, dy = (c >> 1) & 1, dz = (c >> 2) & 1
                        let w = (dx == 1 ? fx : 1 - fx) * (dy == 1 ? fy : 1 - fy) * (dz == 1 ? fz : 1 - fz)
                        if w == 0 { continue }
                        acc += w * Double(values[(lo[0] + dx) + sx * ((lo[1] + dy) + sy * (lo[2] + dz))])
                    }
                    out[i + tx * (j + ty * k)] = Float(acc)
                }
            }
        }
        return out
    }
}
