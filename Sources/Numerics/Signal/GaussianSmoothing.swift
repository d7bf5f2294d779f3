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
/// Parallelised over groups of lines with `DispatchQueue.concurrentPerform`; scratch per task.
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
    public func smooth(_ data: inout [Float], shape: [Int]) throws { try smoothKernel(&data, shape: shape) }

    /// Smooths a Double volume in place (see the float32 overload).
    public func smooth(_ data: inout [Double], shape: [Int]) throws { try smoothKernel(&data, shape: shape) }

    func smoothKernel<S: BinaryFloatingPoint & Sendable>(_ data: inout [S], shape: [Int]) throws {
        guard shape.count == 3 || shape.count == 4, shape.allSatisfy({ $0 >= 1 }) else {
            throw SignalCleanError(.shapeMismatch, "shape must be 3 or 4 positive sizes, got \(shape)")
        }
        let nx = shape[0], ny = shape[1], nz = shape[2], nt = shape.count == 4 ? shape[3] : 1
        guard data.count == nx * ny * nz * nt else {
            throw SignalCleanError(.shapeMismatch, "\(data.count) values for shape \(shape)")
        }
        for i in data.indices where !data[i].isFinite { data[i] = 0 }
        let dims = [nx, ny, nz]
        let strides = [1, nx, nx * ny]
        data.withUnsafeMutableBufferPointer { buffer in
            let base = SignalUnsafeSendable(pointer: buffer.baseAddress!)
            for axis in 0..<3 where !kernels[axis].isEmpty {
                let n = dims[axis], stride = strides[axis]
                // Lines along `axis`, `lanes` adjacent lines at a time: for x, lines at consecutive y
                // (lane stride nx); for y and z, lines at consecutive x (lane stride 1).
                let laneCount = axis == 0 ? ny : nx
                let lanes = min(laneCount, axis == 0 ? 16 : 64)
                let laneStride = axis == 0 ? nx : 1
                let groupsPerPlane = (laneCount + lanes - 1) / lanes
                let outer = axis == 1 ? nz * nt : (axis == 0 ? nz * nt : ny * nt)
                let total = groupsPerPlane * outer
                let tasks = min(total, ProcessInfo.processInfo.activeProcessorCount * 4)
                let kernel = kernels[axis]
                DispatchQueue.concurrentPerform(iterations: tasks) { task in
                    let r = kernel.count / 2
                    var ext = [Double](repeating: 0, count: (n + 2 * r) * lanes + lanes)
                    var index = [Int](repeating: 0, count: n + 2 * r)
                    for i in 0..<(n + 2 * r) { index[i] = GaussianSmoothing.reflect(i - r, n) }
                    var g = task
                    while g < total {
                        let group = g % groupsPerPlane, pos = g / groupsPerPlane
                        let first = group * lanes, width = min(lanes, laneCount - first)
                        let start: Int
                        switch axis {
                        case 0: start = nx * first + nx * ny * pos                       // pos = z + nz·t
                        case 1: start = first + nx * ny * pos                            // pos = z + nz·t
                        default: start = first + nx * ((pos % ny) + ny * nz * (pos / ny))  // pos = y + ny·t
                        }
                        GaussianSmoothing.filterLines(base.pointer + start, count: n, stride: stride, laneStride: laneStride, width: width,
                                                      lanes: lanes, kernel: kernel, ext: &ext, index: index)
                        g += tasks
                    }
                }
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

    /// Convolves `width` lines (lane j starts at p + j·laneStride, samples `stride` apart) with
    /// the symmetric kernel: out_i = w₀ x_i + Σ_k w_k (x_{i+k} + x_{i−k}) on the reflected line.
    @inline(__always)
    static func filterLines<S: BinaryFloatingPoint>(_ p: UnsafeMutablePointer<S>, count n: Int, stride: Int, laneStride: Int, width: Int,
                                                     lanes: Int, kernel: [Double], ext: inout [Double], index: [Int]) {
        let r = kernel.count / 2
        ext.withUnsafeMutableBufferPointer { e in
            kernel.withUnsafeBufferPointer { w in
                let acc = e.baseAddress! + (n + 2 * r) * lanes
                for i in 0..<(n + 2 * r) {
                    let src = p + index[i] * stride, dst = e.baseAddress! + i * lanes
                    for j in 0..<width { dst[j] = Double(src[j * laneStride]) }
                }
                for i in 0..<n {
                    let center = e.baseAddress! + (i + r) * lanes
                    let w0 = w[r]
                    for j in 0..<width { acc[j] = w0 * center[j] }
                    var k = 1
                    while k <= r {
                        let wk = w[r + k], up = center + k * lanes, down = center - k * lanes
                        for j in 0..<width { acc[j] += wk * (up[j] + down[j]) }
                        k += 1
                    }
                    let dst = p + i * stride
                    for j in 0..<width { dst[j * laneStride] = S(acc[j]) }
                }
            }
        }
    }
}
