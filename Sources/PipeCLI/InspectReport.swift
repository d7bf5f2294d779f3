import Foundation
import NIfTI

/// What `pipe inspect` reports about one file, as text or JSON.
struct InspectReport: Encodable {
    var file: String
    var format: String
    var compressed: Bool
    var byteOrder: String
    var shape: [Int]
    var voxelSize: [Double]
    var spatialUnit: String
    var repetitionTime: Double?
    var temporalUnit: String
    var datatype: String
    var sclSlope: Double?
    var sclInter: Double?
    var orientation: String
    var affineSource: String
    var affine: [[Double]]
    var qformCode: Int32
    var sformCode: Int32
    var intentCode: Int32
    var intentName: String
    var description: String
    var dimInfo: DimInfo
    var voxOffset: Int
    var extensions: [ExtensionSummary]
    var min: Double?
    var max: Double?
    var mean: Double?
    var nanCount: Int?
    var infinityCount: Int?
    var issues: [String]

    struct DimInfo: Encodable { var freq: Int; var phase: Int; var slice: Int }
    struct ExtensionSummary: Encodable { var code: Int32; var name: String; var size: Int }

    init(info: NIfTIFileInfo, statistics: NIfTIStatistics?) {
        let h = info.header
        file = info.path
        format = "NIfTI-\(h.version.rawValue)" + (h.isSingleFile ? "" : " pair")
        compressed = info.isCompressed
        byteOrder = info.byteOrder.rawValue
        shape = h.shape
        voxelSize = Array(h.pixdim[1...Swift.min(3, Swift.max(h.rank, 1))]).map(abs)
        spatialUnit = h.spatialUnit.symbol
        repetitionTime = h.repetitionTime
        temporalUnit = h.temporalUnit.symbol
        datatype = h.datatype?.description ?? "code \(h.datatypeCode)"
        sclSlope = h.scaling?.slope
        sclInter = h.scaling?.intercept
        orientation = h.orientation
        affineSource = h.affineSource
        affine = h.affine.rows
        qformCode = h.qformCode
        sformCode = h.sformCode
        intentCode = h.intentCode
        intentName = h.intentName
        description = h.descrip
        dimInfo = DimInfo(freq: Int(h.dimInfo & 3), phase: Int((h.dimInfo >> 2) & 3), slice: Int((h.dimInfo >> 4) & 3))
        voxOffset = Int(h.voxOffset)
        extensions = info.extensions.map { ExtensionSummary(code: $0.code, name: $0.codeName, size: $0.encodedSize) }
        min = statistics?.min
        max = statistics?.max
        mean = statistics?.mean
        nanCount = statistics?.nanCount
        infinityCount = statistics?.infinityCount
        issues = info.issues.map(\.description)
    }

    private static let xformNames = ["unknown", "scanner", "aligned", "talairach", "mni152", "template"]

    private static func codeName(_ code: Int32) -> String {
        (0..<Int32(xformNames.count)).contains(code) ? "\(code) \(xformNames[Int(code)])" : "\(code)"
    }

    private static func number(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        return String(format: "%.6g", v)
    }

    /// The human-readable summary.
    var text: String {
        var lines: [String] = [file]
        func row(_ key: String, _ value: String) { lines.append("  " + key.padding(toLength: 13, withPad: " ", startingAt: 0) + value) }
        row("format", "\(format)\(compressed ? ", gzip" : ""), \(byteOrder)-endian, vox_offset \(voxOffset)")
        row("shape", shape.map(String.init).joined(separator: " x "))
        row("voxel size", voxelSize.map(Self.number).joined(separator: " x ") + " \(spatialUnit)")
        if let tr = repetitionTime {
            row("TR", "\(Self.number(tr)) s" + (temporalUnit == "s" ? "" : " (stored in \(temporalUnit))"))
        }
        let scaling = sclSlope.map { "scl_slope \(Self.number($0)), scl_inter \(Self.number(sclInter ?? 0))" } ?? "no scaling"
        row("datatype", "\(datatype), \(scaling)")
        row("orientation", orientation)
        row("affine", "from \(affineSource) (qform_code \(Self.codeName(qformCode)), sform_code \(Self.codeName(sformCode)))")
        for r in affine.prefix(3) {
            lines.append("               " + r.map { Self.number($0).leftPadded(10) }.joined(separator: " "))
        }
        if intentCode != 0 || !intentName.isEmpty { row("intent", "\(intentCode) \(intentName)") }
        if !description.isEmpty { row("description", description) }
        if dimInfo.freq + dimInfo.phase + dimInfo.slice > 0 {
            row("dim_info", "freq \(dimInfo.freq), phase \(dimInfo.phase), slice \(dimInfo.slice)")
        }
        if !extensions.isEmpty {
            row("extensions", extensions.map { "\($0.name) (code \($0.code), \($0.size) bytes)" }.joined(separator: ", "))
        }
        if let nanCount {
            let range = min.map { "\(Self.number($0)) .. \(Self.number(max!)), mean \(Self.number(mean!))" } ?? "no finite values"
            row("values", range)
            row("non-finite", "\(nanCount) NaN, \(infinityCount ?? 0) inf")
        }
        for issue in issues { row("issue", issue) }
        return lines.joined(separator: "\n")
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
