internal import CKernels
/// Conversion of raw on-disk voxels (any supported datatype, either byte order) to floating point
/// with scaling, and back.
///
/// Scaling is computed in `Double` and rounded once to the destination type:
/// `value = raw * slope + intercept`. With no scaling the raw value is converted directly
/// (`Float(Int32)` rounds to nearest; `Double` holds every int32 exactly; 64-bit integers beyond
/// 2^53 round, as numpy's float64 conversion does).
enum VoxelConversion {
    /// Converts `count` raw voxels at `raw` into `dst`.
    ///
    /// Dispatches to code specialised for `Float` and `Double`: a caller in another module reaches
    /// this function unspecialised, and per-voxel generic calls would be about 4x slower.
    static func decode<S: NIfTIScalar>(
        _ raw: UnsafeRawPointer, count: Int, datatype: NIfTIDatatype, swap: Bool,
        scaling: (slope: Double, intercept: Double)?, into dst: UnsafeMutablePointer<S>
    ) {
        let untyped = UnsafeMutableRawPointer(dst)
        if S.self == Float.self {
            decodeSpecialised(raw, count: count, datatype: datatype, swap: swap, scaling: scaling,
                              into: untyped.assumingMemoryBound(to: Float.self))
        } else if S.self == Double.self {
            decodeSpecialised(raw, count: count, datatype: datatype, swap: swap, scaling: scaling,
                              into: untyped.assumingMemoryBound(to: Double.self))
        } else {
            decodeSpecialised(raw, count: count, datatype: datatype, swap: swap, scaling: scaling, into: dst)
        }
    }

    @inline(__always)
    private static func decodeSpecialised<S: NIfTIScalar>(
        _ raw: UnsafeRawPointer, count: Int, datatype: NIfTIDatatype, swap: Bool,
        scaling: (slope: Double, intercept: Double)?, into dst: UnsafeMutablePointer<S>
    ) {
        switch datatype {
        case .uint8: integers(raw, count, UInt8.self, false, scaling, dst)
        case .int8: integers(raw, count, Int8.self, false, scaling, dst)
        case .int16: integers(raw, count, Int16.self, swap, scaling, dst)
        case .uint16: integers(raw, count, UInt16.self, swap, scaling, dst)
        case .int32: integers(raw, count, Int32.self, swap, scaling, dst)
        case .uint32: integers(raw, count, UInt32.self, swap, scaling, dst)
        case .int64: integers(raw, count, Int64.self, swap, scaling, dst)
        case .uint64: integers(raw, count, UInt64.self, swap, scaling, dst)
        case .float32: float32(raw, count, swap, scaling, dst)
        case .float64: float64(raw, count, swap, scaling, dst)
        default: preconditionFailure("unsupported datatype \(datatype) reached conversion")
        }
    }

    @inline(__always)
    private static func integers<R: FixedWidthInteger, S: NIfTIScalar>(
        _ raw: UnsafeRawPointer, _ count: Int, _: R.Type, _ swap: Bool,
        _ scaling: (slope: Double, intercept: Double)?, _ dst: UnsafeMutablePointer<S>
    ) {
        let src = raw.assumingMemoryBound(to: R.self)
        if R.self == Int16.self, S.self == Float.self, !swap {
            // An int16 run into float32 (the usual BOLD): the same operations in C, with AVX2
            // where the CPU has it (0.1 s less per full-size run).
            pipe_decode_i16(raw.assumingMemoryBound(to: Int16.self), count, scaling == nil ? 0 : 1, scaling?.slope ?? 1,
                            scaling?.intercept ?? 0, UnsafeMutableRawPointer(dst).assumingMemoryBound(to: Float.self))
            return
        }
        switch (swap, scaling) {
        case (false, nil):
            for i in 0..<count { dst[i] = S(src[i]) }
        case (true, nil):
            for i in 0..<count { dst[i] = S(src[i].byteSwapped) }
        case (false, let (slope, inter)?):
            for i in 0..<count { dst[i] = S(Double(src[i]) * slope + inter) }
        case (true, let (slope, inter)?):
            for i in 0..<count { dst[i] = S(Double(src[i].byteSwapped) * slope + inter) }
        }
    }

    @inline(__always)
    private static func float32<S: NIfTIScalar>(
        _ raw: UnsafeRawPointer, _ count: Int, _ swap: Bool,
        _ scaling: (slope: Double, intercept: Double)?, _ dst: UnsafeMutablePointer<S>
    ) {
        let src = raw.assumingMemoryBound(to: UInt32.self)
        switch (swap, scaling) {
        case (false, nil):
            for i in 0..<count { dst[i] = S(Float(bitPattern: src[i])) }
        case (true, nil):
            for i in 0..<count { dst[i] = S(Float(bitPattern: src[i].byteSwapped)) }
        case (_, let (slope, inter)?):
            for i in 0..<count {
                let bits = swap ? src[i].byteSwapped : src[i]
                dst[i] = S(Double(Float(bitPattern: bits)) * slope + inter)
            }
        }
    }

    @inline(__always)
    private static func float64<S: NIfTIScalar>(
        _ raw: UnsafeRawPointer, _ count: Int, _ swap: Bool,
        _ scaling: (slope: Double, intercept: Double)?, _ dst: UnsafeMutablePointer<S>
    ) {
        let src = raw.assumingMemoryBound(to: UInt64.self)
        for i in 0..<count {
            let v = Double(bitPattern: swap ? src[i].byteSwapped : src[i])
            if let (slope, inter) = scaling { dst[i] = S(v * slope + inter) } else { dst[i] = S(v) }
        }
    }

    /// Reverses the byte order of `count` elements of `width` bytes in place.
    static func swapInPlace(_ raw: UnsafeMutableRawPointer, count: Int, width: Int) {
        switch width {
        case 2:
            let p = raw.assumingMemoryBound(to: UInt16.self)
            for i in 0..<count { p[i] = p[i].byteSwapped }
        case 4:
            let p = raw.assumingMemoryBound(to: UInt32.self)
            for i in 0..<count { p[i] = p[i].byteSwapped }
        case 8:
            let p = raw.assumingMemoryBound(to: UInt64.self)
            for i in 0..<count { p[i] = p[i].byteSwapped }
        default:
            break
        }
    }

    /// Encodes `count` values into raw voxels of `datatype` (host byte order).
    ///
    /// For integer types the stored value is `round((v - intercept) / slope)` (half away from
    /// zero), clamped to the type's range; NaN is stored as the raw value that reads back nearest
    /// to 0 (nibabel's nan2zero). For float types the value is converted (scaling, if given, is
    /// inverted first).
    static func encode<S: NIfTIScalar>(
        _ src: UnsafePointer<S>, count: Int, datatype: NIfTIDatatype,
        scaling: (slope: Double, intercept: Double)?, into raw: UnsafeMutableRawPointer
    ) {
        let untyped = UnsafeRawPointer(src)
        if S.self == Float.self {
            encodeSpecialised(untyped.assumingMemoryBound(to: Float.self), count: count, datatype: datatype, scaling: scaling, into: raw)
        } else if S.self == Double.self {
            encodeSpecialised(untyped.assumingMemoryBound(to: Double.self), count: count, datatype: datatype, scaling: scaling, into: raw)
        } else {
            encodeSpecialised(src, count: count, datatype: datatype, scaling: scaling, into: raw)
        }
    }

    @inline(__always)
    private static func encodeSpecialised<S: NIfTIScalar>(
        _ src: UnsafePointer<S>, count: Int, datatype: NIfTIDatatype,
        scaling: (slope: Double, intercept: Double)?, into raw: UnsafeMutableRawPointer
    ) {
        let slope = scaling?.slope ?? 1, inter = scaling?.intercept ?? 0
        switch datatype {
        case .uint8: storeIntegers(src, count, UInt8.self, slope, inter, raw)
        case .int8: storeIntegers(src, count, Int8.self, slope, inter, raw)
        case .int16: storeIntegers(src, count, Int16.self, slope, inter, raw)
        case .uint16: storeIntegers(src, count, UInt16.self, slope, inter, raw)
        case .int32: storeIntegers(src, count, Int32.self, slope, inter, raw)
        case .uint32: storeIntegers(src, count, UInt32.self, slope, inter, raw)
        case .int64: storeIntegers(src, count, Int64.self, slope, inter, raw)
        case .uint64: storeIntegers(src, count, UInt64.self, slope, inter, raw)
        case .float32:
            let dst = raw.assumingMemoryBound(to: Float.self)
            if scaling == nil {
                for i in 0..<count { dst[i] = Float(src[i]) }
            } else {
                for i in 0..<count { dst[i] = Float((Double(src[i]) - inter) / slope) }
            }
        case .float64:
            let dst = raw.assumingMemoryBound(to: Double.self)
            for i in 0..<count { dst[i] = (Double(src[i]) - inter) / slope }
        default:
            preconditionFailure("unsupported datatype \(datatype) reached conversion")
        }
    }

    @inline(__always)
    private static func storeIntegers<R: FixedWidthInteger, S: NIfTIScalar>(
        _ src: UnsafePointer<S>, _ count: Int, _: R.Type, _ slope: Double, _ inter: Double, _ raw: UnsafeMutableRawPointer
    ) {
        let dst = raw.assumingMemoryBound(to: R.self)
        let lo = Double(R.min), hi = Double(R.max)
        let z = ((0 - inter) / slope).rounded()
        let zero: R = z.isNaN ? 0 : (z <= lo ? R.min : (z >= hi ? R.max : R(z)))
        for i in 0..<count {
            let v = Double(src[i])
            if v.isNaN { dst[i] = zero; continue }
            let r = ((v - inter) / slope).rounded()
            if r <= lo { dst[i] = R.min } else if r >= hi { dst[i] = R.max } else { dst[i] = R(r) }
        }
    }
}

