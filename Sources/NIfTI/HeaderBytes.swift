/// A header's raw bytes with byte-order-aware access to numbers at offsets.
struct HeaderBytes {
    var bytes: [UInt8]
    var order: ByteOrder

    init(count: Int, order: ByteOrder) {
        bytes = [UInt8](repeating: 0, count: count)
        self.order = order
    }

    init(_ bytes: [UInt8], order: ByteOrder) {
        self.bytes = bytes
        self.order = order
    }

    func load<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        var value: T = 0
        withUnsafeMutableBytes(of: &value) { dst in
            for i in 0..<MemoryLayout<T>.size { dst[i] = bytes[offset + i] }
        }
        return order == .little ? T(littleEndian: value) : T(bigEndian: value)
    }

    mutating func store<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        var raw = order == .little ? value.littleEndian : value.bigEndian
        withUnsafeBytes(of: &raw) { src in
            for i in 0..<MemoryLayout<T>.size { bytes[offset + i] = src[i] }
        }
    }

    func loadFloat(at offset: Int) -> Float { Float(bitPattern: load(UInt32.self, at: offset)) }
    func loadDouble(at offset: Int) -> Double { Double(bitPattern: load(UInt64.self, at: offset)) }
    mutating func storeFloat(_ value: Float, at offset: Int) { store(value.bitPattern, at: offset) }
    mutating func storeDouble(_ value: Double, at offset: Int) { store(value.bitPattern, at: offset) }

    /// A NUL-terminated (or full-length) string field, decoded as UTF-8 with invalid bytes replaced.
    func loadText(at offset: Int, length: Int) -> String {
        let field = bytes[offset..<(offset + length)]
        let end = field.firstIndex(of: 0) ?? field.endIndex
        return String(decoding: field[offset..<end], as: UTF8.self)
    }

    /// Stores a string, truncated to `length` bytes on a UTF-8 boundary and NUL padded.
    mutating func storeText(_ text: String, at offset: Int, length: Int) {
        var utf8 = Array(text.utf8.prefix(length))
        while !utf8.isEmpty, String(validating: utf8, as: UTF8.self) == nil { utf8.removeLast() }
        for i in 0..<length { bytes[offset + i] = i < utf8.count ? utf8[i] : 0 }
    }
}
