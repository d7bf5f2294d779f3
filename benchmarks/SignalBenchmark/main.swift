import Foundation
import Numerics

// Times SignalClean on a 200 x 235,000 float32 matrix (24P + WM + CSF = 26 confounds,
// Butterworth band-pass 0.01–0.1 Hz at TR 2 s, detrend, zscore_sample). Not a test.
// Usage: swift run -c release signal-bench [voxels] [repeats]
let t = 200
let v = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1])! : 235_000
let repeats = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2])! : 3
struct LCG {
    var state: UInt64 = 42
    mutating func uniform() -> Double {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Double(state >> 11) / Double(1 << 53)
    }
}
var rng = LCG()
var confounds = Matrix(rows: t, columns: 26)
for c in 0..<26 { var w = 0.0; for r in 0..<t { w += rng.uniform() - 0.5; confounds[r, c] = w } }
var base = [Float](repeating: 0, count: t * v)
for r in 0..<t { for c in 0..<v { base[r * v + c] = Float(1000 + 0.1 * Double(r) + 10 * rng.uniform()) } }
let variants: [(String, SignalCleanOptions, Matrix?)] = [
    ("26 confounds, band-pass, zscore", SignalCleanOptions(lowPass: 0.1, highPass: 0.01, repetitionTime: 2), confounds),
    ("no confounds, band-pass, zscore", SignalCleanOptions(lowPass: 0.1, highPass: 0.01, repetitionTime: 2), nil),
    ("26 confounds, no filter, zscore", SignalCleanOptions(filter: nil, repetitionTime: 2), confounds),
    ("no confounds, no filter, no zscore, no detrend", SignalCleanOptions(detrend: false, standardize: nil, filter: nil), nil),
]
let only = ProcessInfo.processInfo.environment["ONLY_FIRST"] != nil
for (label, options, conf) in only ? Array(variants.prefix(1)) : variants {
let clean = SignalClean(options: options)
for i in 0..<repeats {
    var buffer = base
    buffer.withUnsafeMutableBufferPointer { p in for i in stride(from: 0, to: p.count, by: 1024) { p[i] = p[i] } }  // copy outside the timing
    let start = DispatchTime.now().uptimeNanoseconds
    let cpuStart = clock()
    _ = try clean.clean(inPlace: &buffer, timePoints: t, confounds: conf)
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    let cpu = Double(clock() - cpuStart) / Double(CLOCKS_PER_SEC)
    print(String(format: "run %d: %dx%d float32 clean (%@): %.3f s wall, %.3f s CPU  [%.4f]", i + 1, t, v, label, seconds, cpu, Double(buffer[12345])))
}
}

// Pearson r of one seed with all columns, and 6 mm smoothing of a 91 x 109 x 91 x 20 float32 image.
do {
    var buffer = base
    _ = try SignalClean(options: SignalCleanOptions(lowPass: 0.1, highPass: 0.01, repetitionTime: 2)).clean(inPlace: &buffer, timePoints: t, confounds: confounds)
    let seed = (0..<t).map { Double(buffer[$0 * v + 17]) }
    let start = DispatchTime.now().uptimeNanoseconds
    let r = try SeedCorrelation.pearson(seed: seed, data: buffer, timePoints: t)
    let z = r.map(SeedCorrelation.fisherZ)
    print(String(format: "pearson + fisher z, %dx%d: %.3f s wall  [%.4f]", t, v, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, z[5]))
}
do {
    let shape = [91, 109, 91, 20]
    var image = [Float](repeating: 0, count: shape.reduce(1, *))
    for i in image.indices { image[i] = Float(rng.uniform() * 1000) }
    let smoothing = try GaussianSmoothing(fwhm: [6], voxelSize: [2, 2, 2])
    let start = DispatchTime.now().uptimeNanoseconds
    try smoothing.smooth(&image, shape: shape)
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    print(String(format: "smoothing 6 mm, 91x109x91x20 float32: %.3f s wall (%.1f ms per volume)", seconds, 1000 * seconds / 20))
}
