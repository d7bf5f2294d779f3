/// Decoding and encoding the binary header, and the structural checks a reader needs.
extension NIfTIHeader {
    /// Decides the version and byte order from `sizeof_hdr` (first 4 bytes).
    ///
    /// - Throws: `.badHeaderSize` when `sizeof_hdr` is neither 348 nor 540 in either byte order.
    static func detectVersion(_ first4: [UInt8], path: String) throws -> (Version, ByteOrder) {
        let probe = HeaderBytes(first4, order: .little)
        let little = probe.load(Int32.self, at: 0)
        let swapped = little.byteSwapped
        switch (little, swapped) {
        case (348, _): return (.nifti1, .little)
        case (540, _): return (.nifti2, .little)
        case (_, 348): return (.nifti1, .big)
        case (_, 540): return (.nifti2, .big)
        default:
            throw NIfTIError(.badHeaderSize, path: path, field: "sizeof_hdr",
                             "is \(little) (\(swapped) byte-swapped); expected 348 (NIfTI-1) or 540 (NIfTI-2) — not a NIfTI file?")
        }
    }

    /// Decodes a complete header (348 or 540 bytes).
    ///
    /// Checks, in order: `sizeof_hdr` (version and byte order), `dim[0]` in the same byte order,
    /// the magic string. Field values are checked by `checkReadable`.
    static func decode(_ raw: [UInt8], path: String) throws -> (NIfTIHeader, ByteOrder) {
        let (version, order) = try detectVersion(Array(raw.prefix(4)), path: path)
        let size = headerSize(version)
        guard raw.count >= size else {
            throw NIfTIError(.truncated, path: path, "file ends inside the \(size)-byte NIfTI-\(version.rawValue) header (\(raw.count) bytes)")
        }
        let bytes = HeaderBytes(Array(raw.prefix(size)), order: order)
        let dim0: Int64
        let dim0Swapped: Int64
        if version == .nifti1 {
            dim0 = Int64(bytes.load(Int16.self, at: 40))
            dim0Swapped = Int64(bytes.load(Int16.self, at: 40).byteSwapped)
        } else {
            dim0 = bytes.load(Int64.self, at: 16)
            dim0Swapped = bytes.load(Int64.self, at: 16).byteSwapped
        }
        if !(1...7).contains(dim0) {
            if (1...7).contains(dim0Swapped) {
                throw NIfTIError(.undecidableByteOrder, path: path, field: "dim[0]",
                                 "sizeof_hdr says \(order == .little ? "little" : "big")-endian but dim[0] is only valid (\(dim0Swapped)) in the other byte order")
            }
            throw NIfTIError(.badDimensionCount, path: path, field: "dim[0]", "is \(dim0); expected 1 to 7")
        }
        let magicOffset = version == .nifti1 ? nifti1MagicOffset : nifti2MagicOffset
        let magicLength = version == .nifti1 ? 4 : 8
        let magic = Array(raw[magicOffset..<(magicOffset + magicLength)])
        var header = NIfTIHeader()
        header.version = version
        if magic == Self.magic(version, singleFile: true) {
            header.isSingleFile = true
        } else if magic == Self.magic(version, singleFile: false) {
            header.isSingleFile = false
        } else {
            let shown = magic.prefix(4).map { (32...126).contains($0) ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16) }.joined()
            let expected = version == .nifti1 ? "'n+1' or 'ni1'" : "'n+2' or 'ni2' followed by \\r\\n\\x1a\\n"
            throw NIfTIError(.badMagic, path: path, field: "magic",
                             "is '\(shown)'; expected \(expected) (an Analyze 7.5 file is not read)")
        }
        for field in layout(for: version) { field.decode(bytes, &header) }
        return (header, order)
    }

    /// Encodes the header in `order` (the magic is set from `version` and `isSingleFile`).
    ///
    /// - Throws: `.unrepresentable` naming the field when a value does not fit NIfTI-1's narrower
    ///   types (e.g. a dimension above 32767).
    func encode(order: ByteOrder, path: String) throws -> [UInt8] {
        var bytes = HeaderBytes(count: Self.headerSize(version), order: order)
        bytes.store(Int32(Self.headerSize(version)), at: 0)
        let magic = Self.magic(version, singleFile: isSingleFile)
        let magicOffset = version == .nifti1 ? Self.nifti1MagicOffset : Self.nifti2MagicOffset
        for (i, b) in magic.enumerated() { bytes.bytes[magicOffset + i] = b }
        if version == .nifti1 {
            bytes.bytes[38] = UInt8(ascii: "r")  // `regular`, as nibabel and nifti1_io write it
        }
        for field in Self.layout(for: version) where !field.encode(self, &bytes) {
            throw NIfTIError(.unrepresentable, path: path, field: field.name,
                             "value does not fit NIfTI-\(version.rawValue); write NIfTI-2 instead")
        }
        return bytes.bytes
    }

    /// The number of voxels and bytes of voxel data, checked for overflow.
    func dataSize(path: String) throws -> (voxels: Int, bytes: Int) {
        guard let datatype else {
            throw NIfTIError(.unknownDatatype, path: path, field: "datatype", "code \(datatypeCode) is not a NIfTI datatype")
        }
        var voxels = 1
        for axis in 1...rank {
            let n = dim[axis]
            if n <= 0 {
                throw NIfTIError(.badDimension, path: path, field: "dim[\(axis)]", "is \(n); every used dimension must be at least 1")
            }
            guard n <= Int64(Int.max) else {
                throw NIfTIError(.sizeOverflow, path: path, field: "dim[\(axis)]", "is \(n), too large")
            }
            let (product, overflow) = voxels.multipliedReportingOverflow(by: Int(n))
            if overflow {
                throw NIfTIError(.sizeOverflow, path: path, field: "dim", "the voxel count \(shape) overflows 64 bits")
            }
            voxels = product
        }
        let (bytes, overflow) = voxels.multipliedReportingOverflow(by: datatype.bytesPerVoxel)
        if overflow {
            throw NIfTIError(.sizeOverflow, path: path, field: "dim", "the data size of \(voxels) \(datatype) voxels overflows 64 bits")
        }
        return (voxels, bytes)
    }

    /// The checks without which the voxel data cannot be read correctly.
    ///
    /// - Throws: `.notAVolume` (CIFTI), `.unknownDatatype`, `.unsupportedDatatype`, `.badDimension`,
    ///   `.sizeOverflow`, `.badVoxOffset`, `.badScaling`.
    func checkReadable(path: String) throws {
        if isCIFTI {
            throw NIfTIError(.notAVolume, path: path, field: "intent_code",
                             "is \(intentCode), a CIFTI file (3000-3099): a surface/grayordinate file, not a volume")
        }
        guard let datatype else {
            throw NIfTIError(.unknownDatatype, path: path, field: "datatype", "code \(datatypeCode) is not a NIfTI datatype")
        }
        guard datatype.isSupported else {
            throw NIfTIError(.unsupportedDatatype, path: path, field: "datatype",
                             "\(datatype) (code \(datatypeCode)) is not supported; pipe reads uint8, int8, int16, uint16, int32, uint32, int64, uint64, float32 and float64")
        }
        _ = try dataSize(path: path)
        let minimum = isSingleFile ? Double(Self.headerSize(version) + 4) : 0
        if !voxOffset.isFinite || voxOffset < minimum || voxOffset != voxOffset.rounded() || voxOffset > Double(Int.max / 2) {
            throw NIfTIError(.badVoxOffset, path: path, field: "vox_offset",
                             "is \(formatNumber(voxOffset)); expected a whole number of bytes at least \(Int(minimum))")
        }
        if sclSlope != 0 && sclSlope.isFinite && !sclInter.isFinite {
            throw NIfTIError(.badScaling, path: path, field: "scl_inter",
                             "is \(formatNumber(sclInter)) with a valid scl_slope of \(formatNumber(sclSlope)); expected a finite intercept")
        }
    }

    /// Checks that do not stop reading but that a careful user wants to see.
    public func validate() -> [HeaderIssue] {
        var issues: [HeaderIssue] = []
        if let datatype, Int(bitpix) != datatype.bitsPerVoxel {
            issues.append(HeaderIssue(.warning, "bitpix", "is \(bitpix) but \(datatype) has \(datatype.bitsPerVoxel) bits; the datatype wins"))
        }
        if pixdim[0] != 1 && pixdim[0] != -1 {
            issues.append(HeaderIssue(.warning, "pixdim[0]", "qfac is \(formatNumber(pixdim[0])); expected 1 or -1 (taken as \(Int(qfac)))"))
        }
        for axis in 1...min(3, max(rank, 1)) where !pixdim[axis].isFinite || pixdim[axis] <= 0 {
            issues.append(HeaderIssue(.warning, "pixdim[\(axis)]", "voxel size is \(formatNumber(pixdim[axis])); expected a positive size"))
        }
        if qformCode != 0 && hasInvalidQuaternion {
            issues.append(HeaderIssue(.warning, "quatern_b/c/d", "b²+c²+d² exceeds 1; the quaternion was renormalised"))
        }
        for (name, code) in [("qform_code", qformCode), ("sform_code", sformCode)] where !(0...5).contains(code) {
            issues.append(HeaderIssue(.warning, name, "is \(code); expected 0 to 5"))
        }
        if qformCode == 0 && sformCode == 0 {
            issues.append(HeaderIssue(.warning, "qform_code/sform_code", "both are 0: no orientation; the affine is guessed from pixdim"))
        } else if qformCode != 0 && sformCode != 0 && !qformAffine.isClose(to: sformAffine, tolerance: 1e-3) {
            issues.append(HeaderIssue(.info, "qform/sform", "the qform and sform differ (oblique or sheared sform); the sform is used"))
        }
        if let message = repetitionTimeIssue {
            issues.append(HeaderIssue(.warning, "pixdim[4]", message))
        }
        if isSingleFile && version == .nifti1 && Int(voxOffset) % 16 != 0 {
            issues.append(HeaderIssue(.info, "vox_offset", "\(Int(voxOffset)) is not a multiple of 16, as NIfTI-1 asks"))
        }
        if sclSlope.isNaN || sclSlope.isInfinite {
            issues.append(HeaderIssue(.info, "scl_slope", "is \(formatNumber(sclSlope)); no scaling applied"))
        }
        return issues
    }
}
