// Benchmark: read a full-size 2 mm BOLD run (91x109x91x240 int16 .nii.gz) into float32, next to
// `gzip -dc FILE > /dev/null` on the same file, measured in the same invocation.
//
//   swift run -c release nifti-bench [--out DIR] [--repeats N]
//
// Prints the best-of-N times, the ratio (target <= 1.2: inflate is the floor), the write speed and
// the peak memory of the reading process. Not a test: machines are shared and noisy.
import Foundation
import NIfTI

#if canImport(Glibc)
import Glibc
#endif

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func peakRSSMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

let arguments = CommandLine.arguments
// Child mode: read one file into float32 and report time and peak memory.
if arguments.count == 3 && arguments[1] == "raw" {
    let start = now()
    let (_, bytes) = try NIfTIFile.readRaw(arguments[2])
    print("raw \(now() - start) \(peakRSSMiB()) \(bytes.count)")
    exit(0)
}
if arguments.count == 3 && arguments[1] == "stats" {
    let start = now()
    let s = try NIfTIFile.statistics(arguments[2])
    print("stats \(now() - start) \(peakRSSMiB()) \(s.count)")
    exit(0)
}
if arguments.count == 3 && arguments[1] == "read" {
    let start = now()
    let image = try NIfTIFile.read(arguments[2], as: Float.self)
    let elapsed = now() - start
    var checksum = 0.0
    for i in stride(from: 0, to: image.data.count, by: 4099) { checksum += Double(image.data[i]) }
    print("\(elapsed) \(peakRSSMiB()) \(image.data.count) \(checksum)")
    exit(0)
}

func option(_ name: String, _ fallback: String) -> String {
    if let i = arguments.firstIndex(of: name), i + 1 < arguments.count { return arguments[i + 1] }
    return fallback
}
let folder = option("--out", "benchmarks/data")
let repeats = Int(option("--repeats", "3")) ?? 3
try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
let path = folder + "/bold_2mm_240vol_int16.nii.gz"
let shape = [91, 109, 91, 240]
let voxelsPerVolume = shape[0] * shape[1] * shape[2]
let rawBytes = voxelsPerVolume * shape[3] * 2

// A brain-like int16 series: an ellipsoid of tissue (~1000 +- spatial pattern) with temporal noise,
// zero outside, so the file compresses about as real BOLD data does.
nonisolated(unsafe) var state: UInt64 = 0x1234_5678
@inline(__always) func noise() -> Double {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    z ^= z >> 31
    return Double(z >> 11) / Double(1 << 53) - 0.5
}
print("generating \(shape.map(String.init).joined(separator: "x")) int16 (\(rawBytes / 1_048_576) MiB raw)...")
var mask = [Bool](repeating: false, count: voxelsPerVolume)
var base = [Double](repeating: 0, count: voxelsPerVolume)
for k in 0..<shape[2] { for j in 0..<shape[1] { for i in 0..<shape[0] {
    let x = (Double(i) - 45) / 40, y = (Double(j) - 54) / 50, z = (Double(k) - 40) / 38
    let v = i + shape[0] * (j + shape[1] * k)
    if x * x + y * y + z * z < 1 {
        mask[v] = true
        base[v] = 1000 + 300 * sin(Double(i) / 7) * cos(Double(j) / 9) + 150 * sin(Double(k) / 5)
    }
}}}
var raw = [Int16](repeating: 0, count: voxelsPerVolume * shape[3])
for t in 0..<shape[3] {
    let offset = t * voxelsPerVolume
    let drift = 5 * sin(Double(t) / 30)
    for v in 0..<voxelsPerVolume where mask[v] {
        raw[offset + v] = Int16(base[v] + drift + 40 * noise())
    }
}
var header = NIfTIHeader()
header.setShape(shape)
header.datatypeCode = NIfTIDatatype.int16.rawValue
header.bitpix = 16
header.setAffine(Affine(rows: [[-2, 0, 0, 90], [0, 2, 0, -126], [0, 0, 2, -72]]), code: 4)
header.xyztUnits = 10
header.pixdim[4] = 2
header.sclSlope = 1
let rawData = raw.withUnsafeBytes { Array($0) }
raw = []
var writeTimes: [Double] = []
for _ in 0..<max(1, repeats - 1) {
    let start = now()
    try NIfTIFile.writeRaw(header: header, bytes: rawData, to: path)
    writeTimes.append(now() - start)
}
let fileSize = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.doubleValue ?? 0

func runChild(_ executable: String, _ args: [String], discardOutput: Bool) throws -> (Double, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = args
    let out = Pipe()
    process.standardOutput = discardOutput ? FileHandle(forWritingAtPath: "/dev/null")! : out
    let start = now()
    try process.run()
    let text = discardOutput ? "" : String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    let elapsed = now() - start
    guard process.terminationStatus == 0 else { throw NSError(domain: "bench", code: Int(process.terminationStatus)) }
    return (elapsed, text)
}

let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
var gzipTimes: [Double] = [], readTimes: [Double] = [], peak = 0.0
for _ in 0..<repeats {
    gzipTimes.append(try runChild("/bin/gzip", ["-dc", path], discardOutput: true).0)
    let (_, text) = try runChild(me, ["read", path], discardOutput: false)
    let fields = text.split(separator: " ")
    readTimes.append(Double(fields[0])!)
    peak = max(peak, Double(fields[1])!)
}
let gzipBest = gzipTimes.min()!, readBest = readTimes.min()!, writeBest = writeTimes.min()!
let outputMiB = Double(voxelsPerVolume * shape[3] * 4) / 1_048_576
print(String(format: "file              %@ (%.0f MiB compressed, %.0f MiB raw int16, ratio %.2f)", path, fileSize / 1_048_576, Double(rawBytes) / 1_048_576, Double(rawBytes) / fileSize))
print(String(format: "gzip -dc          %.3f s (best of %d)", gzipBest, repeats))
print(String(format: "pipe read→float32 %.3f s (best of %d), in-process time", readBest, repeats))
print(String(format: "ratio pipe/gzip   %.2f  (target <= 1.2)", readBest / gzipBest))
print(String(format: "peak memory       %.0f MiB for the read (float32 output alone is %.0f MiB)", peak, outputMiB))
print(String(format: "write .nii.gz     %.3f s, %.0f MiB/s of raw data (zlib level 1)", writeBest, Double(rawBytes) / 1_048_576 / writeBest))
