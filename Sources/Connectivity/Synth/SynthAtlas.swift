import NIfTI

/// The synthetic cohort's label atlas: amygdala subregions, precuneus, middle temporal gyrus and
/// distractors, as spheres at approximate published MNI locations (Juelich amygdala subdivisions;
/// AAL precuneus and MTG centroids), drawn on the data grid. A voxel within several spheres goes
/// to the nearest centre.
public struct SynthAtlas: Sendable {
    public struct Region: Sendable {
        public var index: Int
        public var name: String
        public var centre: [Double]
        public var radius: Double
    }

    public static let regions: [Region] = [
        Region(index: 1, name: "LBA_left", centre: [-24, -4, -24], radius: 6),
        Region(index: 2, name: "LBA_right", centre: [24, -4, -24], radius: 6),
        Region(index: 3, name: "CMA_left", centre: [-18, -8, -10], radius: 5),
        Region(index: 4, name: "CMA_right", centre: [18, -8, -10], radius: 5),
        Region(index: 5, name: "SFA_left", centre: [-16, 2, -20], radius: 5),
        Region(index: 6, name: "SFA_right", centre: [16, 2, -20], radius: 5),
        Region(index: 7, name: "precuneus_left", centre: [-8, -60, 40], radius: 12),
        Region(index: 8, name: "precuneus_right", centre: [8, -60, 40], radius: 12),
        Region(index: 9, name: "MTG_left", centre: [-58, -30, -6], radius: 10),
        Region(index: 10, name: "MTG_right", centre: [58, -30, -6], radius: 10),
        Region(index: 11, name: "M1_left", centre: [-38, -22, 56], radius: 10),
        Region(index: 12, name: "M1_right", centre: [38, -22, 56], radius: 10),
        Region(index: 13, name: "V1_left", centre: [-10, -88, 4], radius: 10),
        Region(index: 14, name: "V1_right", centre: [10, -88, 4], radius: 10),
        Region(index: 15, name: "mPFC", centre: [0, 50, 10], radius: 12),
        Region(index: 16, name: "thalamus", centre: [0, -18, 6], radius: 8),
    ]

    /// Label per voxel (0 = background), x fastest.
    public let labels: [Int]

    public init(grid: SynthGrid) {
        var labels = [Int](repeating: 0, count: grid.voxelCount)
        for v in 0..<grid.voxelCount where grid.mask[v] {
            let p = grid.world(v)
            var best = 0, bestDistance = Double.infinity
            for region in Self.regions {
                let d = zip(p, region.centre).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
                if d <= region.radius && d < bestDistance {
                    best = region.index
                    bestDistance = d
                }
            }
            labels[v] = best
        }
        self.labels = labels
    }

    public static func index(of name: String) -> Int? { regions.first { $0.name == name }?.index }

    /// The label table as TSV (index, name).
    public static var tsv: String {
        "index\tname\n" + regions.map { "\($0.index)\t\($0.name)" }.joined(separator: "\n") + "\n"
    }
}
