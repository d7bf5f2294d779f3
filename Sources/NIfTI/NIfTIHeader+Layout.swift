/// The on-disk layouts of NIfTI-1 (348 bytes) and NIfTI-2 (540 bytes), as tables of fields.
///
/// Offsets follow `nifti1.h` and `nifti2.h`. `sizeof_hdr` (offset 0) and the magic string are not
/// in the tables: the codec reads them first, to decide the version and byte order.
extension NIfTIHeader {
    static let nifti1Size = 348
    static let nifti2Size = 540
    /// Offset of the magic string: 344 in NIfTI-1 (4 bytes), 4 in NIfTI-2 (8 bytes).
    static let nifti1MagicOffset = 344
    static let nifti2MagicOffset = 4

    static let nifti1Layout: [HeaderField] = [
        .integer("dim_info", 39, .uint8, \.dimInfo),
        .integers("dim", 40, .int16, count: 8, \.dim),
        .real("intent_p1", 56, .float32, \.intentP1),
        .real("intent_p2", 60, .float32, \.intentP2),
        .real("intent_p3", 64, .float32, \.intentP3),
        .integer("intent_code", 68, .int16, \.intentCode),
        .integer("datatype", 70, .int16, \.datatypeCode),
        .integer("bitpix", 72, .int16, \.bitpix),
        .integer("slice_start", 74, .int16, \.sliceStart),
        .reals("pixdim", 76, .float32, count: 8, \.pixdim),
        .real("vox_offset", 108, .float32, \.voxOffset),
        .real("scl_slope", 112, .float32, \.sclSlope),
        .real("scl_inter", 116, .float32, \.sclInter),
        .integer("slice_end", 120, .int16, \.sliceEnd),
        .integer("slice_code", 122, .uint8, \.sliceCode),
        .integer("xyzt_units", 123, .uint8, \.xyztUnits),
        .real("cal_max", 124, .float32, \.calMax),
        .real("cal_min", 128, .float32, \.calMin),
        .real("slice_duration", 132, .float32, \.sliceDuration),
        .real("toffset", 136, .float32, \.toffset),
        .text("descrip", 148, length: 80, \.descrip),
        .text("aux_file", 228, length: 24, \.auxFile),
        .integer("qform_code", 252, .int16, \.qformCode),
        .integer("sform_code", 254, .int16, \.sformCode),
        .real("quatern_b", 256, .float32, \.quaternB),
        .real("quatern_c", 260, .float32, \.quaternC),
        .real("quatern_d", 264, .float32, \.quaternD),
        .real("qoffset_x", 268, .float32, \.qoffsetX),
        .real("qoffset_y", 272, .float32, \.qoffsetY),
        .real("qoffset_z", 276, .float32, \.qoffsetZ),
        .reals("srow_x", 280, .float32, count: 4, \.srowX),
        .reals("srow_y", 296, .float32, count: 4, \.srowY),
        .reals("srow_z", 312, .float32, count: 4, \.srowZ),
        .text("intent_name", 328, length: 16, \.intentName),
    ]

    static let nifti2Layout: [HeaderField] = [
        .integer("datatype", 12, .int16, \.datatypeCode),
        .integer("bitpix", 14, .int16, \.bitpix),
        .integers("dim", 16, .int64, count: 8, \.dim),
        .real("intent_p1", 80, .float64, \.intentP1),
        .real("intent_p2", 88, .float64, \.intentP2),
        .real("intent_p3", 96, .float64, \.intentP3),
        .reals("pixdim", 104, .float64, count: 8, \.pixdim),
        .real("vox_offset", 168, .int64, \.voxOffset),
        .real("scl_slope", 176, .float64, \.sclSlope),
        .real("scl_inter", 184, .float64, \.sclInter),
        .real("cal_max", 192, .float64, \.calMax),
        .real("cal_min", 200, .float64, \.calMin),
        .real("slice_duration", 208, .float64, \.sliceDuration),
        .real("toffset", 216, .float64, \.toffset),
        .integer("slice_start", 224, .int64, \.sliceStart),
        .integer("slice_end", 232, .int64, \.sliceEnd),
        .text("descrip", 240, length: 80, \.descrip),
        .text("aux_file", 320, length: 24, \.auxFile),
        .integer("qform_code", 344, .int32, \.qformCode),
        .integer("sform_code", 348, .int32, \.sformCode),
        .real("quatern_b", 352, .float64, \.quaternB),
        .real("quatern_c", 360, .float64, \.quaternC),
        .real("quatern_d", 368, .float64, \.quaternD),
        .real("qoffset_x", 376, .float64, \.qoffsetX),
        .real("qoffset_y", 384, .float64, \.qoffsetY),
        .real("qoffset_z", 392, .float64, \.qoffsetZ),
        .reals("srow_x", 400, .float64, count: 4, \.srowX),
        .reals("srow_y", 432, .float64, count: 4, \.srowY),
        .reals("srow_z", 464, .float64, count: 4, \.srowZ),
        .integer("slice_code", 496, .int32, \.sliceCode),
        .integer("xyzt_units", 500, .int32, \.xyztUnits),
        .integer("intent_code", 504, .int32, \.intentCode),
        .text("intent_name", 508, length: 16, \.intentName),
        .integer("dim_info", 524, .uint8, \.dimInfo),
    ]

    /// The field table of a version.
    static func layout(for version: Version) -> [HeaderField] {
        version == .nifti1 ? nifti1Layout : nifti2Layout
    }

    /// The header size of a version.
    static func headerSize(_ version: Version) -> Int {
        version == .nifti1 ? nifti1Size : nifti2Size
    }

    /// The magic bytes of a version, single-file (`n+1`, `n+2`) or pair (`ni1`, `ni2`).
    static func magic(_ version: Version, singleFile: Bool) -> [UInt8] {
        switch (version, singleFile) {
        case (.nifti1, true): Array("n+1\0".utf8)
        case (.nifti1, false): Array("ni1\0".utf8)
        case (.nifti2, true): Array("n+2\0".utf8) + [0x0D, 0x0A, 0x1A, 0x0A]
        case (.nifti2, false): Array("ni2\0".utf8) + [0x0D, 0x0A, 0x1A, 0x0A]
        }
    }
}
