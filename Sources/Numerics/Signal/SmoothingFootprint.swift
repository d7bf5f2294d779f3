/// What a volume's smoothing must compute so that its values at some voxels come out exact: for
/// each pass (x, y, z) and each x line of the grid (line y + ny·z), the x range of outputs that
/// the later passes read, reflected indices included; and the input values those outputs read.
///
/// Each line's entry is one range, the hull of what is needed on it, so a little more than the
/// exact set is computed where a line's needs have gaps. For a brain mask at 2 mm and a 6 mm
/// kernel this is about half the work of the mask's bounding box (grown by the kernel's reach),
/// and reads under two fifths of the grid (38%).
public struct SmoothingFootprint: Sendable {
    /// A half-open x range of one line; empty when `lower >= upper`.
    public struct Span: Sendable, Equatable {
        public internal(set) var lower: Int32
        public internal(set) var upper: Int32

        public static let empty = Span(lower: .max, upper: .min)

        init(lower: Int32, upper: Int32) {
            self.lower = lower
            self.upper = upper
        }

        init(_ range: Range<Int>) {
            self.init(lower: Int32(range.lowerBound), upper: Int32(range.upperBound))
        }

        public var isEmpty: Bool { lower >= upper }
        public var count: Int { isEmpty ? 0 : Int(upper - lower) }
        public var range: Range<Int> { isEmpty ? 0..<0 : Int(lower)..<Int(upper) }

        /// Grows to the hull of itself and `other`.
        mutating func cover(_ other: Span) {
            guard !other.isEmpty else { return }
            lower = min(lower, other.lower)
            upper = max(upper, other.upper)
        }
    }

    /// Per pass (x, y, z), per line: the outputs the pass computes (unused for an axis the
    /// smoothing does not filter).
    let outputs: [[Span]]
    /// Per pass y and z, per line: the values the pass reads from that line.
    let reads: [[Span]]
    /// Per line: the input values the kept voxels depend on.
    public let inputs: [Span]

    /// The footprint for keeping `voxels` (linear indices into a grid of `shape` = [nx, ny, nz],
    /// x fastest).
    public init(voxels: [Int], shape: [Int], smoothing: GaussianSmoothing) {
        let nx = shape[0]
        var kept = [Span](repeating: .empty, count: shape[1] * shape[2])
        for v in voxels {
            let x = Int32(v % nx)
            kept[v / nx].cover(Span(lower: x, upper: x + 1))
        }
        self.init(kept: kept, shape: shape, kernels: smoothing.kernels)
    }

    /// The footprint for keeping every voxel of a grid of `shape`.
    public init(wholeGrid shape: [Int], smoothing: GaussianSmoothing) {
        self.init(kept: [Span](repeating: Span(0..<shape[0]), count: shape[1] * shape[2]), shape: shape, kernels: smoothing.kernels)
    }

    private init(kept: [Span], shape: [Int], kernels: [[Double]]) {
        let ny = shape[1], lines = kept.count
        var outputs = [[Span]](repeating: [], count: 3), reads = [[Span]](repeating: [], count: 3)
        // Backwards from the last pass: what a pass computes is what the next one reads.
        var needed = kept
        for axis in [2, 1] where !kernels[axis].isEmpty {
            let r = kernels[axis].count / 2, n = shape[axis], step = axis == 2 ? ny : 1
            var read = [Span](repeating: .empty, count: lines)
            for line in 0..<lines where !needed[line].isEmpty {
                let j = axis == 2 ? line / ny : line % ny, start = line - j * step
                for k in -r...r { read[start + GaussianSmoothing.reflect(j + k, n) * step].cover(needed[line]) }
            }
            outputs[axis] = needed
            reads[axis] = read
            needed = read
        }
        if !kernels[0].isEmpty {
            outputs[0] = needed
            let r = kernels[0].count / 2
            needed = needed.map { $0.isEmpty ? $0 : Span(Self.readRange($0.range, radius: r, n: shape[0])) }
        }
        self.outputs = outputs
        self.reads = reads
        self.inputs = needed
    }

    /// The indices read (after reflection) to filter outputs `out` with a kernel of `radius`.
    static func readRange(_ out: Range<Int>, radius: Int, n: Int) -> Range<Int> {
        guard radius > 0, !out.isEmpty else { return out }
        var lo = n, hi = -1
        for i in (out.lowerBound - radius)..<(out.upperBound + radius) {
            let j = GaussianSmoothing.reflect(i, n)
            lo = min(lo, j); hi = max(hi, j)
        }
        return lo..<(hi + 1)
    }
}
