/// One field of the on-disk header: its name, byte offset, storage type and the model property it
/// maps to. The NIfTI-1 and NIfTI-2 layouts are arrays of these (`NIfTIHeader+Layout.swift`).
struct HeaderField: Sendable {
    /// How a number is stored on disk.
    enum Storage: Sendable {
        case uint8, int16, int32, int64, float32, float64

        var size: Int {
            switch self {
            case .uint8: 1
            case .int16: 2
            case .int32, .float32: 4
            case .int64, .float64: 8
            }
        }
    }

    let name: String
    let offset: Int
    /// Bytes the field occupies.
    let size: Int
    let decode: @Sendable (HeaderBytes, inout NIfTIHeader) -> Void
    /// Encodes the model value; returns false when it does not fit the storage type.
    let encode: @Sendable (NIfTIHeader, inout HeaderBytes) -> Bool

    /// An integer field stored as `storage`, held in the model as any integer type.
    static func integer<V: BinaryInteger & Sendable>(
        _ name: String, _ offset: Int, _ storage: Storage, _ key: WritableKeyPath<NIfTIHeader, V> & Sendable
    ) -> HeaderField {
        HeaderField(name: name, offset: offset, size: storage.size,
                    decode: { bytes, header in header[keyPath: key] = V(truncatingIfNeeded: loadInt(bytes, offset, storage)) },
                    encode: { header, bytes in storeInt(Int64(header[keyPath: key]), &bytes, offset, storage) })
    }

    /// An array of `count` integers, held as `[Int64]`.
    static func integers(
        _ name: String, _ offset: Int, _ storage: Storage, count: Int, _ key: WritableKeyPath<NIfTIHeader, [Int64]> & Sendable
    ) -> HeaderField {
        HeaderField(name: name, offset: offset, size: storage.size * count,
                    decode: { bytes, header in
                        header[keyPath: key] = (0..<count).map { loadInt(bytes, offset + $0 * storage.size, storage) }
                    },
                    encode: { header, bytes in
                        let values = header[keyPath: key]
                        return (0..<count).allSatisfy { storeInt(values[$0], &bytes, offset + $0 * storage.size, storage) }
                    })
    }

    /// A real field stored as float32 or float64, held as `Double`.
    static func real(
        _ name: String, _ offset: Int, _ storage: Storage, _ key: WritableKeyPath<NIfTIHeader, Double> & Sendable
    ) -> HeaderField {
        HeaderField(name: name, offset: offset, size: storage.size,
                    decode: { bytes, header in header[keyPath: key] = loadReal(bytes, offset, storage) },
                    encode: { header, bytes in storeReal(header[keyPath: key], &bytes, offset, storage) })
    }

    /// An array of `count` reals, held as `[Double]`.
    static func reals(
        _ name: String, _ offset: Int, _ storage: Storage, count: Int, _ key: WritableKeyPath<NIfTIHeader, [Double]> & Sendable
    ) -> HeaderField {
        HeaderField(name: name, offset: offset, size: storage.size * count,
                    decode: { bytes, header in
                        header[keyPath: key] = (0..<count).map { loadReal(bytes, offset + $0 * storage.size, storage) }
                    },
                    encode: { header, bytes in
                        let values = header[keyPath: key]
                        return (0..<count).allSatisfy { storeReal(values[$0], &bytes, offset + $0 * storage.size, storage) }
                    })
    }

    /// A fixed-length, NUL-padded text field.
    static func text(_ name: String, _ offset: Int, length: Int, _ key: WritableKeyPath<NIfTIHeader, String> & Sendable) -> HeaderField {
        HeaderField(name: name, offset: offset, size: length,
                    decode: { bytes, header in header[keyPath: key] = bytes.loadText(at: offset, length: length) },
                    encode: { header, bytes in
                        bytes.storeText(header[keyPath: key], at: offset, length: length)
                        return true
                    })
    }

    private static func loadInt(_ bytes: HeaderBytes, _ offset: Int, _ storage: Storage) -> Int64 {
        switch storage {
        case .uint8: Int64(bytes.bytes[offset])
        case .int16: Int64(bytes.load(Int16.self, at: offset))
        case .int32: Int64(bytes.load(Int32.self, at: offset))
        case .int64: bytes.load(Int64.self, at: offset)
        case .float32, .float64: Int64(loadReal(bytes, offset, storage))
        }
    }

    private static func storeInt(_ value: Int64, _ bytes: inout HeaderBytes, _ offset: Int, _ storage: Storage) -> Bool {
        switch storage {
        case .uint8:
            guard let v = UInt8(exactly: value) else { return false }
            bytes.bytes[offset] = v
        case .int16:
            guard let v = Int16(exactly: value) else { return false }
            bytes.store(v, at: offset)
        case .int32:
            guard let v = Int32(exactly: value) else { return false }
            bytes.store(v, at: offset)
        case .int64:
            bytes.store(value, at: offset)
        case .float32, .float64:
            return storeReal(Double(value), &bytes, offset, storage)
        }
        return true
    }

    private static func loadReal(_ bytes: HeaderBytes, _ offset: Int, _ storage: Storage) -> Double {
        switch storage {
        case .float32: Double(bytes.loadFloat(at: offset))
        case .float64: bytes.loadDouble(at: offset)
        default: Double(loadInt(bytes, offset, storage))
        }
    }

    private static func storeReal(_ value: Double, _ bytes: inout HeaderBytes, _ offset: Int, _ storage: Storage) -> Bool {
        switch storage {
        case .float32:
            let f = Float(value)
            if value.isFinite && !f.isFinite { return false }
            bytes.storeFloat(f, at: offset)
            return true
        case .float64:
            bytes.storeDouble(value, at: offset)
            return true
        default:
            guard value.isFinite, value == value.rounded() else { return false }
            return storeInt(Int64(value), &bytes, offset, storage)
        }
    }
}
