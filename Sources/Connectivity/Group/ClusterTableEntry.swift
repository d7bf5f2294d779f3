import Foundation
import Numerics

/// One row of a contrast's `desc-clusters.tsv`: a peak or sub-peak of nilearn's
/// `get_clusters_table` (`ClusterTableRow`) with its z, the cluster-mass FWE p of its cluster and
/// the atlas label at the peak.
///
/// Numbers are written `%.6g`; an empty cell is a value that does not apply (sizes and centre of
/// mass on sub-peak rows; the FWE p without cluster-mass inference).
struct ClusterTableEntry: Sendable {
    var row: ClusterTableRow
    /// z of the peak t at the model's degrees of freedom.
    var peakZ: Double
    /// Cluster-mass FWE p of the peak's cluster; nil without cluster-mass inference.
    var pFWEClusterMass: Double?
    /// The atlas label at the peak, "" without an atlas or outside every label.
    var label: String

    /// The table's columns, each with how a row fills it, so the header and the cells agree.
    static let columns: [(name: String, cell: @Sendable (ClusterTableEntry) -> String)] = [
        ("cluster_id", { $0.row.id }),
        ("x", { fmt($0.row.x) }), ("y", { fmt($0.row.y) }), ("z", { fmt($0.row.z) }),
        ("peak_t", { fmt($0.row.peakStat) }), ("peak_z", { fmt($0.peakZ) }),
        ("size_voxels", { $0.row.clusterSizeVoxels.map(String.init) ?? "" }),
        ("size_mm3", { $0.row.clusterSizeMM3.map(String.init) ?? "" }),
        ("center_x", { $0.row.centerOfMass.map { fmt($0.x) } ?? "" }),
        ("center_y", { $0.row.centerOfMass.map { fmt($0.y) } ?? "" }),
        ("center_z", { $0.row.centerOfMass.map { fmt($0.z) } ?? "" }),
        ("p_fwe_cluster_mass", { $0.pFWEClusterMass.map(fmt) ?? "" }),
        ("label", { $0.label }),
    ]

    /// The TSV: a header line, then one line per entry.
    static func tsv(_ entries: [ClusterTableEntry]) -> String {
        ([columns.map(\.name)] + entries.map { entry in columns.map { $0.cell(entry) } })
            .map { $0.joined(separator: "\t") + "\n" }.joined()
    }
}

private func fmt(_ v: Double) -> String { String(format: "%.6g", v) }
