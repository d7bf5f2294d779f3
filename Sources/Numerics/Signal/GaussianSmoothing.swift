import CKernels
import Foundation

/// Gaussian smoothing of a 3D or 4D volume to a FWHM in mm, as nilearn `image.smooth_img` /
/// `smooth_array` (0.14.1).
///
/// Data layout: NIfTI order, x fastest, then y, z, t: `data[x + nx·(y + ny·(z + nz·t))]`.
///
/// Steps (nilearn `smooth_array`):
/// 1. non-finite values (NaN, ±Inf) are set to 0 — also when no smoothing is asked;
/// 2. σ (voxels) = FWHM / (√(8 ln 2) · voxel size) per axis; voxel sizes are the column norms of
///    affine[:3, :3] (passed in as three numbers);
/// 3. for each spatial axis with σ > 0, in order x, y, z: `scipy.ndimage.gaussian_filter1d`
///    (truncate 4, mode "reflect"): radius r = Int(4σ + 0.5), weights w_k ∝ exp(−k²/(2σ²)),
///    k = −r…r, normalised to sum 1; samples beyond an edge mirror with the edge sample repeated
///    (d c b a | a b c d | d c b a), periodically for kernels longer than the axis;
/// 4. each pass computes in Double and stores in the array's type (scipy computes in double and
///    writes to the array's dtype after each axis, so float32 images round after every pass).
/// Volumes of a 4D image are smoothed independently (the t axis is never filtered).
///
/// FWHM `nil`, 0, or a 0 entry leaves that axis unfiltered (nilearn warns for a scalar 0).
///
/// `smooth(volume:shape:keeping:scratch:)` smooths one volume but computes only what the values
/// at a set of voxels need (a ``SmoothingFootprint``: per pass and per x line, the outputs that
/// the later passes read, reflected indices included), so those values are bit-identical to
/// smoothing the whole volume (same inputs, same Double operations in the same order), and the
/// work shrinks to the brain and the kernel's reach around it when the caller masks afterwards.
/// `smooth(_:shape:)` is that per-volume code on the whole grid, parallel over volumes with
/// `DispatchQueue.concurrentPerform`.
public struct GaussianSmoothing: Sendable {
    /// σ in voxels per spatial axis (0: axis not filtered).
    public let sigmas: [Double]
    /// Normalised kernel weights per axis, index k = −r…r stored at k + r (empty: not filtered).
    public let kernels: [[Double]]

    /// - Parameters:
    ///   - fwhm: FWHM in mm: one number for all axes or three (x, y, z); `nil` for none.
    ///   - voxelSize: the three column norms of affine[:3, :3] (mm).
    /// - Throws: `SignalCleanError.Code.invalidParameter` for a negative/non-finite FWHM or a
    ///   non-positive voxel size.
    public init(fwhm: [Double]?, voxelSize: [Double]) throws {
        guard voxelSize.count == 3, voxelSize.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw SignalCleanError(.invalidParameter, "voxel size must be three positive numbers, got \(voxelSize)")
        }
        let f: [Double]
        switch fwhm?.count {
        case nil: f = [0, 0, 0]
        case 1?: f = [Double](repeating: fwhm![0], count: 3)
        case 3?: f = fwhm!
        default: throw SignalCleanError(.invalidParameter, "FWHM must be one or three numbers, got \(fwhm!)")
        }
        guard f.allSatisfy({ $0 >= 0 && $0.isFinite }) else {
            throw SignalCleanError(.invalidParameter, "FWHM must be finite and non-negative, got \(f)")
        }
        let ratio = (8 * log(2.0)).squareRoot()
        sigmas = (0..<3).map { f[$0] / (ratio * voxelSize[$0]) }
        kernels = sigmas.map { GaussianSmoothing.kernel(sigma: $0) }
    }

    /// scipy `_gaussian_kernel1d(sigma, order 0, radius int(4σ + 0.5))`, normalised.
    public static func kernel(sigma: Double, truncate: Double = 4) -> [Double] {
        guard sigma > 0 else { return [] }
        let radius = Int(truncate * sigma + 0.5)
        let s2 = sigma * sigma
        var w = (-radius...radius).map { exp(-0.5 / s2 * Double($0 * $0)) }
        let sum = w.reduce(0, +)
        for i in w.indices { w[i] /= sum }
        return w
    }

    /// Smooths `data` in place.
    /// - Parameters:
    ///   - data: nx·ny·nz·nt values, x fastest.
    ///   - shape: [nx, ny, nz] or [nx, ny, nz, nt].
    public func smooth(_ data: inout [Float], shape: [Int]) throws { try smoothAll(&data, shape: shape) }

    /// Smooths a Double volume in place (see the float32 overload).
    public func smooth(_ data: inout [Double], shape: [Int]) throws { try smoothAll(&data, shape: shape) }

    /// Smooths one 3-D volume (nx·ny·nz finite float32 values, x fastest) in place, exactly as
    /// `smooth(_:shape:)` would at the footprint's voxels; other values are left in an unspecified
    /// state. Only the footprint's `inputs` are read. The caller sets non-finite values to 0 first
    /// (step 1).
    /// - Parameters:
    ///   - footprint: made for this smoothing and shape.
    ///   - scratch: made for this shape; one per concurrent caller.
    public func smooth(volume: UnsafeMutablePointer<Float>, shape: [Int], keeping footprint: SmoothingFootprint, scratch: SmoothingScratch) {
        smoothVolume(volume, dims: shape, footprint: footprint, scratch: scratch)
    }

    func smoothAll<S: BinaryFloatingPoint & Sendable>(_ data: inout [S], shape: [Int]) throws {
        guard shape.count == 3 || shape.count == 4, shape.allSatisfy({ $0 >= 1 }) else {
            throw SignalCleanError(.shapeMismatch, "shape must be 3 or 4 positive sizes, got \(shape)")
        }
        let dims = Array(shape.prefix(3)), perVolume = dims.reduce(1, *), nt = shape.count == 4 ? shape[3] : 1
        guard data.count == perVolume * nt else {
            throw SignalCleanError(.shapeMismatch, "\(data.count) values for shape \(shape)")
        }
        for i in data.indices where !data[i].isFinite { data[i] = 0 }
        let footprint = SmoothingFootprint(wholeGrid: dims, smoothing: self)
        let tasks = Parallel.workers(for: nt)
        data.withUnsafeMutableBufferPointer { buffer in
            let base = SignalUnsafeSendable(pointer: buffer.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: tasks) { task in
                let scratch = SmoothingScratch(shape: dims, kernels: kernels)
                for t in stride(from: task, to: nt, by: tasks) {
                    smoothVolume(base.pointer + t * perVolume, dims: dims, footprint: footprint, scratch: scratch)
                }
            }
        }
    }

    /// The three passes on one volume, each on the outputs that the later passes read.
    func smoothVolume<S: BinaryFloatingPoint>(_ p: UnsafeMutablePointer<S>, dims: [Int], footprint f: SmoothingFootprint,
                                              scratch: SmoothingScratch) {
        let nx = dims[0], ny = dims[1], nz = dims[2]
        if !kernels[0].isEmpty {
            for row in 0..<(ny * nz) where !f.outputs[0][row].isEmpty {
                Self.filterLine(p + nx * row, n: nx, out: f.outputs[0][row].range, kernel: kernels[0], scratch: scratch)
            }
        }
        if !kernels[1].isEmpty {
            for z in 0..<nz {
                Self.filterRows(p + nx * ny * z, rowStride: nx, n: ny, spans: f.outputs[1], reads: f.reads[1], first: ny * z, step: 1,
                                kernel: kernels[1], scratch: scratch)
            }
        }
        if !kernels[2].isEmpty {
            for y in 0..<ny {
                Self.filterRows(p + nx * y, rowStride: nx * ny, n: nz, spans: f.outputs[2], reads: f.reads[2], first: y, step: ny,
                                kernel: kernels[2], scratch: scratch)
            }
        }
    }

    /// scipy "reflect" index for i in any range, for an axis of length n.
    static func reflect(_ i: Int, _ n: Int) -> Int {
        let period = 2 * n
        var m = i % period
        if m < 0 { m += period }
        return m < n ? m : period - 1 - m
    }

    /// Filters one contiguous line of `n` samples, writing outputs `out`:
    /// out_i = w₀ x_i + Σ_k w_k (x_{i+k} + x_{i−k}) on the reflected line.
    @inline(__always)
    static func filterLine<S: BinaryFloatingPoint>(_ line: UnsafeMutablePointer<S>, n: Int, out: Range<Int>, kernel: [Double],
                                                    scratch: SmoothingScratch) {
        let r = kernel.count / 2, width = out.count, first = out.lowerBound - r
        let ext = scratch.samples
        // Samples first…first+width+2r, reflected only where they leave the line.
        let inside = max(first, 0)..<min(first + width + 2 * r, n)
        // Only the samples before and after the line are reflected (a loop over all samples that
        // skipped the inside ones cost 3 % of the subject chain).
        let before = inside.isEmpty ? width + 2 * r : inside.lowerBound - first
        let after = inside.isEmpty ? width + 2 * r : inside.upperBound - first
        for i in 0..<before { ext[i] = Double(line[reflect(first + i, n)]) }
        for i in after..<(width + 2 * r) { ext[i] = Double(line[reflect(first + i, n)]) }
        if !inside.isEmpty { widen(line + inside.lowerBound, into: ext + (inside.lowerBound - first), count: inside.count) }
        kernel.withUnsafeBufferPointer { w in
            convolve(ext + r, step: 1, count: width, weights: w.baseAddress!, radius: r, into: line + out.lowerBound)
        }
    }

    /// Filters along an axis whose samples are x rows: row j (of `n`) starts at `base + j·rowStride`,
    /// and its footprint entry is `first + j·step`. Writes each row's `spans` entry, reading each
    /// row's `reads` entry (which covers the spans of every output row that reads it). Same formula
    /// as `filterLine`, vectorised along the rows.
    @inline(__always)
    static func filterRows<S: BinaryFloatingPoint>(_ base: UnsafeMutablePointer<S>, rowStride: Int, n: Int,
                                                    spans: [SmoothingFootprint.Span], reads: [SmoothingFootprint.Span],
                                                    first entry: Int, step: Int, kernel: [Double], scratch: SmoothingScratch) {
        // The output rows lo..<hi and the x range they span.
        var lo = n, hi = 0, x0 = Int.max, x1 = Int.min
        for j in 0..<n {
            let s = spans[entry + j * step]
            if s.isEmpty { continue }
            lo = min(lo, j); hi = j + 1
            x0 = min(x0, Int(s.lower)); x1 = max(x1, Int(s.upper))
        }
        guard lo < hi else { return }
        let r = kernel.count / 2, first = lo - r, width = x1 - x0
        let ext = scratch.samples
        for j in 0..<(hi - lo + 2 * r) {
            let source = reflect(first + j, n), s = reads[entry + source * step]
            if s.isEmpty { continue }  // read only by rows with no output
            widen(base + source * rowStride + Int(s.lower), into: ext + j * width + (Int(s.lower) - x0), count: s.count)
        }
        kernel.withUnsafeBufferPointer { w in
            for i in lo..<hi {
                let s = spans[entry + i * step]
                if s.isEmpty { continue }
                convolve(ext + (i - lo + r) * width + (Int(s.lower) - x0), step: width, count: s.count, weights: w.baseAddress!, radius: r,
                         into: base + i * rowStride + Int(s.lower))
            }
        }
    }

    /// dst[i] = Double(src[i]) for i < count; Float32 sources (every volume of a run) use the C
    /// kernel `pipe_widen`, which is twice as wide with AVX2.
    @inline(__always)
    static func widen<S: BinaryFloatingPoint>(_ src: UnsafeMutablePointer<S>, into dst: UnsafeMutablePointer<Double>, count: Int) {
        if S.self == Float.self {
            pipe_widen(UnsafeRawPointer(src).assumingMemoryBound(to: Float.self), dst, count)
            return
        }
        for i in 0..<count { dst[i] = Double(src[i]) }
    }

    /// dst[j] = w₀ c_j + Σ_{k=1…r} w_k (c_{j+k·step} + c_{j−k·step}) for j in 0..<count, with
    /// c = `center`, weights at w[r + k]; eight outputs at a time in vector registers, each lane
    /// doing exactly the scalar operations (so the result does not depend on the chunking).
    /// Float32 outputs (every volume of a run) use the C kernel `pipe_convolve`, the same
    /// operations with AVX2 when the CPU has it.
    @inline(__always)
    static func convolve<S: BinaryFloatingPoint>(_ center: UnsafePointer<Double>, step: Int, count: Int, weights w: UnsafePointer<Double>,
                                                  radius r: Int, into dst: UnsafeMutablePointer<S>) {
        if S.self == Float.self {
            pipe_convolve(center, step, count, w, Int32(r), UnsafeMutableRawPointer(dst).assumingMemoryBound(to: Float.self))
            return
        }
        typealias Lanes = SIMD8<Double>
        let w0 = w[r]
        var j = 0
        while j + Lanes.scalarCount <= count {
            let c = UnsafeRawPointer(center + j)
            var acc = w0 * c.loadUnaligned(as: Lanes.self)
            var k = 1
            while k <= r {
                let up = c.loadUnaligned(fromByteOffset: 8 * k * step, as: Lanes.self)
                let down = c.loadUnaligned(fromByteOffset: -8 * k * step, as: Lanes.self)
                acc += w[r + k] * (up + down)
                k += 1
            }
            for l in 0..<Lanes.scalarCount { dst[j + l] = S(acc[l]) }
            j += Lanes.scalarCount
        }
        while j < count {
            let c = center + j
            var acc = w0 * c[0]
            var k = 1
            while k <= r {
                acc += w[r + k] * (c[k * step] + c[-k * step])
                k += 1
            }
            dst[j] = S(acc)
            j += 1
        }
    }
}

/// Per-caller working memory for `GaussianSmoothing.smooth(volume:shape:keeping:scratch:)`: the
/// reflected samples of one line or plane, in Double.
public final class SmoothingScratch: @unchecked Sendable {
    let samples: UnsafeMutablePointer<Double>

    /// Sized for volumes of `shape` ([nx, ny, nz]) and the smoothing's kernels.
    public convenience init(shape: [Int], smoothing: GaussianSmoothing) {
        self.init(shape: shape, kernels: smoothing.kernels)
    }

    init(shape: [Int], kernels: [[Double]]) {
        let nx = shape[0]
        // Rows of up to nx values, n + 2r of them per axis (also covers one reflected x line).
        let rows = (0..<3).map { shape[$0] + 2 * (kernels[$0].count / 2) }.max()!
        samples = .allocate(capacity: max(rows * nx, rows))
    }

    deinit {
        samples.deallocate()
    }
}
