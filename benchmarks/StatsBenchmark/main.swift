// Benchmark of the group-statistics kernels (not a test): `swift run -c release stats-bench`.
// Environment: BENCH_SUBJECTS (49), BENCH_PERMS (5000), BENCH_COVARS (3), BENCH_SECTIONS
// ("maxt,tfce"; also "cluster", "spatial", "ftest"), BENCH_SPATIAL_PERMS (100), BENCH_PRECISION
// (double|float), BENCH_CLUSTER (0: spatial without the cluster null).
import Dispatch
import Foundation
import Numerics

let env = ProcessInfo.processInfo.environment
let subjects = Int(env["BENCH_SUBJECTS"] ?? "") ?? 49
let perms = Int(env["BENCH_PERMS"] ?? "") ?? 5000
let covars = Int(env["BENCH_COVARS"] ?? "") ?? 3
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

let grid = brainMask()
let v = grid.count
print("mask voxels: \(v), cores: \(ProcessInfo.processInfo.activeProcessorCount)")

if sections.contains("maxt") {
    let t0 = now()
    var y = Matrix(rows: subjects, columns: v)
    for i in 0..<(subjects * v) { y.data[i] = gauss() }
    let tested = (0..<subjects).map { $0 < subjects / 2 ? 1.0 : 0.0 }
    let conf = Matrix(rows: subjects, columns: covars, data: (0..<(subjects * covars)).map { _ in gauss() })
    print(String(format: "data generation: %.2f s", now() - t0))
    var options = PermutationOptions()
    options.permutations = perms
    if let p = env["BENCH_PRECISION"] { options.precision = p == "double" ? .double : .float }
    let t1 = now(), c1 = cpu()
    let r = try PermutationTest.run(tested: tested, confounds: covars > 0 ? conf : nil, data: y, options: options)
    let dt = now() - t1, dc = cpu() - c1
    print(String(format: "max-T: %d subjects x %d voxels x %d perms, %d covariates: %.2f s wall (%.3f ms/perm), %.2f CPU s; peak RSS %.0f MB; min FWE p %.4f",
                 subjects, v, perms, covars, dt, dt / Double(perms) * 1000, dc, peakMB(), r.maxTFWEP.min() ?? .nan))
}

if sections.contains("tfce") || sections.contains("cluster") {
    // A smooth t-like map: blurred noise scaled to |t| up to ~5.
    var raw = [Double](repeating: 0, count: grid.nx * grid.ny * grid.nz)
    for i in 0..<raw.count { raw[i] = gauss() }
    for _ in 0..<4 {
        var o = raw
        let nx = grid.nx, ny = grid.ny, nz = grid.nz
        for z in 1..<(nz - 1) { for yy in 1..<(ny - 1) { for x in 1..<(nx - 1) {
            let i = x + nx * (yy + ny * z)
            o[i] = (raw[i] + raw[i - 1] + raw[i + 1] + raw[i - nx] + raw[i + nx] + raw[i - nx * ny] + raw[i + nx * ny]) / 7
        } } }
        raw = o
    }
    let map = grid.voxelIndices.map { raw[$0] * 6 }
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
        var mx = 0.0
        let t3 = now(), c3 = cpu()
        for _ in 0..<reps { mx += map.withUnsafeBufferPointer { TFCE.exactMaximum(map: $0, graph: graph, workspace: workspace) } }
        print(String(format: "exact TFCE maximum (null statistic), reused workspace: %.2f ms wall, %.2f ms CPU (max %.1f)", (now() - t3) / Double(reps) * 1000, (cpu() - c3) / Double(reps) * 1000, mx / Double(reps)))
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
    // exact TFCE nulls.
    let sperms = Int(env["BENCH_SPATIAL_PERMS"] ?? "") ?? 100
    var y = Matrix(rows: subjects, columns: v)
    for i in 0..<(subjects * v) { y.data[i] = gauss() }
    let tested = (0..<subjects).map { $0 < subjects / 2 ? 1.0 : 0.0 }
    let conf = Matrix(rows: subjects, columns: covars, data: (0..<(subjects * covars)).map { _ in gauss() })
    var options = PermutationOptions()
    options.permutations = sperms
    if env["BENCH_CLUSTER"] != "0" { options.clusterThreshold = try ClusterAnalysis.tThreshold(p: 0.001, df: Double(subjects - 2 - covars)) }
    options.tfce = .exact
    if let p = env["BENCH_PRECISION"] { options.precision = p == "double" ? .double : .float }
    let t1 = now(), c1 = cpu()
    let r = try PermutationTest.run(tested: tested, confounds: covars > 0 ? conf : nil, data: y, grid: grid, options: options)
    let dt = now() - t1, dc = cpu() - c1
    print(String(format: "max-T + %@exact TFCE (%@): %d perms: %.2f s wall (%.1f ms/perm), %.2f CPU s; peak RSS %.0f MB; min TFCE FWE p %.3f",
                 options.clusterThreshold != nil ? "cluster + " : "", String(describing: options.precision), sperms, dt, dt / Double(sperms) * 1000, dc, peakMB(), r.tfceFWEP?.min() ?? .nan))
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
