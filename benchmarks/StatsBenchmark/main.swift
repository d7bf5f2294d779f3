// Benchmark of the group-statistics kernels (not a test): `swift run -c release stats-bench`.
// Environment: BENCH_SUBJECTS (49), BENCH_PERMS (5000), BENCH_COVARS (3), BENCH_SECTIONS
// ("maxt,tfce"; also "cluster", "spatial", "ftest"), BENCH_SPATIAL_PERMS (100), BENCH_PRECISION
// (double|float), BENCH_CLUSTER (0: spatial without the cluster null), BENCH_TFCE (0: spatial
// without the TFCE null), BENCH_TFCE_REPS (maps timed for the TFCE maximum, also printing the
// fastest), BENCH_TFCE_FLOAT (1: the TFCE section's map rounded to Float32), BENCH_TFCE_CHECKSUM
// (1: print a hash of the bits of the TFCE maps and, in the spatial section, of the TFCE null, to
// compare builds).
// Shared data set (benchmarks/group-stats.sh runs nilearn on the same numbers):
// BENCH_WRITE=DIR writes a group data set of BENCH_SUBJECTS smooth noise maps in the ellipsoid mask
// (each subject's grid noise blurred as the TFCE section's map, FWHM about 2.5 voxels), the
// two-group tested variable and BENCH_COVARS Gaussian covariates to DIR; BENCH_READ=DIR makes the
// maxt and spatial sections test that data set (its subjects, covariates and mask) instead of
// fresh i.i.d. noise. Files, all little-endian: data.f64 (subjects x voxels, row-major, voxels in
// mask order), tested.f64 (subjects), confounds.f64 (subjects x covariates, row-major), mask.u8
// (nx*ny*nz bytes, x fastest) and shape.json.
import Dispatch
import Foundation
import Numerics

let env = ProcessInfo.processInfo.environment
let subjects = Int(env["BENCH_SUBJECTS"] ?? "") ?? 49
let perms = Int(env["BENCH_PERMS"] ?? "") ?? 5000
let covars = Int(env["BENCH_COVARS"] ?? "") ?? 3
/// FNV-1a over the values' bit patterns, in hex: equal only if every bit is (BENCH_TFCE_CHECKSUM).
func bitsHash(_ values: [Double]) -> String {
    var h: UInt64 = 1469598103934665603
    for x in values { h = (h ^ x.bitPattern) &* 1099511628211 }
    return String(h, radix: 16)
}

let sections = Set((env["BENCH_SECTIONS"] ?? "maxt,tfce").split(separator: ",").map(String.init))

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }
/// Process CPU seconds (user + system), to see how much of the 2 cores the run actually got.
func cpu() -> Double {
    var u = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
    return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) * 1e-6 + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) * 1e-6
}
/// Peak resident memory in MB.
func peakMB() -> Double { var u = rusage(); getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u); return Double(u.ru_maxrss) / 1024 }

/// ~230k-voxel ellipsoid mask on the 2 mm MNI grid (91 x 109 x 91).
func brainMask() -> MaskGrid {
    let nx = 91, ny = 109, nz = 91
    var m = [Bool](repeating: false, count: nx * ny * nz)
    for z in 0..<nz { for y in 0..<ny { for x in 0..<nx {
        let a = (Double(x) - 45) / 36, b = (Double(y) - 54) / 46, c = (Double(z) - 40) / 33
        m[x + nx * (y + ny * z)] = a * a + b * b + c * c <= 1
    } } }
    return MaskGrid(nx: nx, ny: ny, nz: nz, mask: m)
}

nonisolated(unsafe) var rng = Xoshiro256StarStar(seed: 1)
func gauss() -> Double {
    let u1 = (Double(rng.next() >> 11) + 0.5) * 0x1p-53, u2 = Double(rng.next() >> 11) * 0x1p-53
    return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
}

/// Gaussian noise on the whole grid, blurred by four passes of a 7-point (centre + faces) mean.
func smoothNoise(_ grid: MaskGrid) -> [Double] {
    let nx = grid.nx, ny = grid.ny, nz = grid.nz
    var raw = (0..<(nx * ny * nz)).map { _ in gauss() }
    for _ in 0..<4 {
        var o = raw
        for z in 1..<(nz - 1) { for yy in 1..<(ny - 1) { for x in 1..<(nx - 1) {
            let i = x + nx * (yy + ny * z)
            o[i] = (raw[i] + raw[i - 1] + raw[i + 1] + raw[i - nx] + raw[i + nx] + raw[i - nx * ny] + raw[i + nx * ny]) / 7
        } } }
        raw = o
    }
    return raw
}

/// A two-group design: n x V data, tested variable 1 for the first n/2 subjects, n x k covariates.
struct GroupData { var y: Matrix; var tested: [Double]; var confounds: Matrix }

/// I.i.d. Gaussian data (smooth: each subject's map is `smoothNoise` in the mask).
func noiseData(subjects n: Int, covariates k: Int, grid: MaskGrid, smooth: Bool) -> GroupData {
    var y = Matrix(rows: n, columns: grid.count)
    if smooth {
        for i in 0..<n {
            let map = smoothNoise(grid)
            for (c, g) in grid.voxelIndices.enumerated() { y.data[i * grid.count + c] = map[g] }
        }
    } else {
        for i in 0..<(n * grid.count) { y.data[i] = gauss() }
    }
    let tested = (0..<n).map { $0 < n / 2 ? 1.0 : 0.0 }
    let conf = Matrix(rows: n, columns: k, data: (0..<(n * k)).map { _ in gauss() })
    return GroupData(y: y, tested: tested, confounds: conf)
}

func write<T>(_ values: [T], _ dir: String, _ name: String) throws {
    try values.withUnsafeBytes { Data($0) }.write(to: URL(fileURLWithPath: dir).appendingPathComponent(name))
}
func read<T>(_ dir: String, _ name: String, as: T.Type) throws -> [T] {
    let d = try Data(contentsOf: URL(fileURLWithPath: dir).appendingPathComponent(name))
    return d.withUnsafeBytes { Array($0.bindMemory(to: T.self)) }
}
/// Grid size and counts of a written data set.
struct Shape: Codable { var grid: [Int]; var subjects: Int; var voxels: Int; var covariates: Int }

precondition(1.littleEndian == 1, "data files are written in native byte order, which must be little-endian")
let readDir = env["BENCH_READ"]
let readShape = try readDir.map { try JSONDecoder().decode(Shape.self, from: Data(contentsOf: URL(fileURLWithPath: $0).appendingPathComponent("shape.json"))) }
let grid = try readDir.map { d in
    MaskGrid(nx: readShape!.grid[0], ny: readShape!.grid[1], nz: readShape!.grid[2], mask: try read(d, "mask.u8", as: UInt8.self).map { $0 != 0 })
} ?? brainMask()
let v = grid.count
print("mask voxels: \(v), cores: \(ProcessInfo.processInfo.activeProcessorCount)")

if let dir = env["BENCH_WRITE"] {
    let t0 = now()
    let d = noiseData(subjects: subjects, covariates: covars, grid: grid, smooth: true)
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try write(d.y.data, dir, "data.f64")
    try write(d.tested, dir, "tested.f64")
    try write(d.confounds.data, dir, "confounds.f64")
    var mask = [UInt8](repeating: 0, count: grid.nx * grid.ny * grid.nz)
    for g in grid.voxelIndices { mask[g] = 1 }
    try write(mask, dir, "mask.u8")
    try JSONEncoder().encode(Shape(grid: [grid.nx, grid.ny, grid.nz], subjects: subjects, voxels: v, covariates: covars))
        .write(to: URL(fileURLWithPath: dir).appendingPathComponent("shape.json"))
    print(String(format: "wrote %@: %d subjects x %d voxels, %d covariates (%.2f s)", dir, subjects, v, covars, now() - t0))
}

/// The data the maxt and spatial sections test: the data set in BENCH_READ, else i.i.d. noise.
func groupData() throws -> GroupData {
    guard let dir = readDir, let shape = readShape else { return noiseData(subjects: subjects, covariates: covars, grid: grid, smooth: false) }
    return GroupData(y: Matrix(rows: shape.subjects, columns: shape.voxels, data: try read(dir, "data.f64", as: Double.self)),
                     tested: try read(dir, "tested.f64", as: Double.self),
                     confounds: Matrix(rows: shape.subjects, columns: shape.covariates, data: try read(dir, "confounds.f64", as: Double.self)))
}

if sections.contains("maxt") {
    let t0 = now()
    let d = try groupData()
    print(String(format: "data %@: %.2f s", readDir == nil ? "generation" : "reading", now() - t0))
    var options = PermutationOptions()
    options.permutations = perms
    if let p = env["BENCH_PRECISION"] { options.precision = p == "double" ? .double : .float }
    let t1 = now(), c1 = cpu()
    let r = try PermutationTest.run(tested: d.tested, confounds: d.confounds.columns > 0 ? d.confounds : nil, data: d.y, options: options)
    let dt = now() - t1, dc = cpu() - c1
    print(String(format: "max-T: %d subjects x %d voxels x %d perms, %d covariates: %.2f s wall (%.3f ms/perm), %.2f CPU s; peak RSS %.0f MB; min FWE p %.4f; max |t| %.6f",
                 d.y.rows, v, perms, d.confounds.columns, dt, dt / Double(perms) * 1000, dc, peakMB(), r.maxTFWEP.min() ?? .nan,
                 r.t.map(abs).max() ?? .nan))
}

if sections.contains("tfce") || sections.contains("cluster") {
    // A smooth t-like map: blurred noise scaled to |t| up to ~5.
    let raw = smoothNoise(grid)
    // BENCH_TFCE_FLOAT=1 rounds it to Float32 values, as the maps of a Float32 permutation null.
    let float = env["BENCH_TFCE_FLOAT"] == "1"
    let map = grid.voxelIndices.map { float ? Double(Float(raw[$0] * 6)) : raw[$0] * 6 }
    let graph = grid.neighborGraph(.faces)
    if sections.contains("tfce") {
        _ = TFCE.exact(map: map, graph: graph)
        let reps = 20
        let t0 = now(), c0 = cpu()
        for _ in 0..<reps { _ = TFCE.exact(map: map, graph: graph) }
        print(String(format: "exact TFCE (two-sided) per map at %d voxels: %.2f ms wall, %.2f ms CPU", v, (now() - t0) / Double(reps) * 1000, (cpu() - c0) / Double(reps) * 1000))
        // The permutation-null path: reused workspace, maximum only (no map written).
        let workspace = TFCEWorkspace()
        var out = [Double](repeating: 0, count: v)
        let t2 = now(), c2 = cpu()
        for _ in 0..<reps {
            map.withUnsafeBufferPointer { m in out.withUnsafeMutableBufferPointer { o in TFCE.exact(map: m, graph: graph, out: o, workspace: workspace) } }
        }
        print(String(format: "exact TFCE (two-sided), reused workspace: %.2f ms wall, %.2f ms CPU", (now() - t2) / Double(reps) * 1000, (cpu() - c2) / Double(reps) * 1000))
        if env["BENCH_TFCE_CHECKSUM"] == "1" {
            var m2 = map; for i in Swift.stride(from: 0, to: m2.count, by: 3) { m2[i] = -m2[i] * 0.7 }
            print("checksum", bitsHash(out + TFCE.exact(map: m2, graph: graph)
                                       + TFCE.exact(map: m2, graph: graph, twoSided: false, E: 0.6, H: 1.5)))
        }
        var mx = 0.0, fastest = Double.infinity
        let maxReps = Int(env["BENCH_TFCE_REPS"] ?? "") ?? reps
        let t3 = now(), c3 = cpu()
        for _ in 0..<maxReps {
            let t = now()
            mx += map.withUnsafeBufferPointer { TFCE.exactMaximum(map: $0, graph: graph, workspace: workspace) }
            fastest = min(fastest, now() - t)
        }
        print(String(format: "exact TFCE maximum (null statistic), reused workspace: %.2f ms wall, %.2f ms CPU, fastest %.2f ms (max %.1f)",
                     (now() - t3) / Double(maxReps) * 1000, (cpu() - c3) / Double(maxReps) * 1000, fastest * 1000, mx / Double(maxReps)))
        let t1 = now(), c1 = cpu()
        _ = TFCE.nilearnStepped(map: map, graph: graph)
        print(String(format: "stepped (nilearn) TFCE per map: %.1f ms wall, %.1f ms CPU", (now() - t1) * 1000, (cpu() - c1) * 1000))
    }
    if sections.contains("cluster") {
        let reps = 20
        let t0 = now(), c0 = cpu()
        for _ in 0..<reps {
            _ = map.withUnsafeBufferPointer { ClusterAnalysis.maxSizeAndMass(map: $0, graph: graph, threshold: 3.3, twoSided: true) }
        }
        print(String(format: "max cluster size+mass per map: %.2f ms wall, %.2f ms CPU", (now() - t0) / Double(reps) * 1000, (cpu() - c0) / Double(reps) * 1000))
    }
}

if sections.contains("spatial") {
    // Full permutation run with cluster mass (p < 0.001, faces; BENCH_CLUSTER=0 skips it) and
    // exact TFCE (BENCH_TFCE=0 skips it) nulls.
    let sperms = Int(env["BENCH_SPATIAL_PERMS"] ?? "") ?? 100
    let d = try groupData()
    var options = PermutationOptions()
    options.permutations = sperms
    if env["BENCH_CLUSTER"] != "0" { options.clusterThreshold = try ClusterAnalysis.tThreshold(p: 0.001, df: Double(d.y.rows - 2 - d.confounds.columns)) }
    if env["BENCH_TFCE"] != "0" { options.tfce = .exact }
    if let p = env["BENCH_PRECISION"] { options.precision = p == "double" ? .double : .float }
    let t1 = now(), c1 = cpu()
    let r = try PermutationTest.run(tested: d.tested, confounds: d.confounds.columns > 0 ? d.confounds : nil, data: d.y, grid: grid, options: options)
    let dt = now() - t1, dc = cpu() - c1
    let nulls = ["max-T"] + (options.clusterThreshold != nil ? ["cluster"] : []) + (options.tfce != nil ? ["exact TFCE"] : [])
    // Observed statistics, to check that another tool tested the same data.
    var observed = String(format: "max |t| %.6f", r.t.map(abs).max() ?? .nan)
    if let thr = options.clusterThreshold {
        let c = r.t.withUnsafeBufferPointer { ClusterAnalysis.maxSizeAndMass(map: $0, graph: grid.neighborGraph(.faces), threshold: thr, twoSided: true) }
        observed += String(format: "; cluster threshold |t| > %.4f, observed max cluster %.0f voxels, mass %.4f", thr, c.size, c.mass)
    }
    if let p = r.tfceFWEP { observed += String(format: "; min TFCE FWE p %.3f", p.min() ?? .nan) }
    if env["BENCH_TFCE_CHECKSUM"] == "1", let nulls = r.nullMaxTFCE {
        print("null checksum", bitsHash(nulls + (r.tfce ?? [])))
    }
    print(String(format: "%@ (%@): %d perms: %.2f s wall (%.1f ms/perm), %.2f CPU s; peak RSS %.0f MB; %@",
                 nulls.joined(separator: " + "), String(describing: options.precision), sperms, dt, dt / Double(sperms) * 1000, dc, peakMB(), observed))
}

if sections.contains("ftest") {
    // Permutation F test (3 groups + covariates, F contrast on the two group columns) with
    // cluster (p < 0.001 on the F scale) and exact TFCE-on-F nulls.
    let sperms = Int(env["BENCH_SPATIAL_PERMS"] ?? "") ?? 100
    var y = Matrix(rows: subjects, columns: v)
    for i in 0..<(subjects * v) { y.data[i] = gauss() }
    var cols: [[Double]] = [[Double](repeating: 1, count: subjects),
                            (0..<subjects).map { $0 % 3 == 1 ? 1.0 : 0.0 }, (0..<subjects).map { $0 % 3 == 2 ? 1.0 : 0.0 }]
    for _ in 0..<covars { cols.append((0..<subjects).map { _ in gauss() }) }
    let design = Matrix(columns: cols)
    var contrast = Matrix(rows: 2, columns: cols.count)
    contrast[0, 1] = 1; contrast[1, 2] = 1
    var options = PermutationOptions()
    options.permutations = sperms
    options.clusterThreshold = try ClusterAnalysis.fThreshold(p: 0.001, dfn: 2, dfd: Double(subjects - cols.count))
    options.tfce = .exact
    let t1 = now(), c1 = cpu()
    let r = try PermutationTest.runF(design: design, contrast: contrast, data: y, grid: grid, options: options)
    let dt = now() - t1, dc = cpu() - c1
    print(String(format: "permutation F (q = 2) + cluster + exact TFCE: %d perms: %.2f s wall (%.1f ms/perm), %.2f CPU s; peak RSS %.0f MB; min TFCE FWE p %.3f",
                 sperms, dt, dt / Double(sperms) * 1000, dc, peakMB(), r.tfceFWEP?.min() ?? .nan))
}
