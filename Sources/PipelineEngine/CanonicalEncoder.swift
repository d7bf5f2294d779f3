/// The explicit, versioned byte encoding that task keys hash.
///
/// Layout of each value: one type tag byte, then
/// - `0x00` null: nothing;
/// - `0x01` bool: one byte, 0 or 1;
/// - `0x02` integer (an integral number with |n| < 2^53): Int64 little-endian;
/// - `0x03` other number: IEEE-754 bit pattern, UInt64 little-endian (`-0.0` encodes as integer 0);
/// - `0x04` string: UInt64 little-endian byte count, then UTF-8 bytes;
/// - `0x05` array: UInt64 little-endian count, then the elements;
/// - `0x06` object: UInt64 little-endian count, then (key as a string value, value) pairs with keys
///   sorted by their UTF-8 bytes.
///
/// Never uses `hashValue`; the same value encodes to the same bytes on every platform and run.
/// A golden test pins the digest of a fixed task: change this encoding only with a new
/// ``TaskKey/formatVersion``.
public struct CanonicalEncoder: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []

    /// Creates an empty encoder.
    public init() { bytes.reserveCapacity(512) }

    /// Appends the encoding of `value`.
    public mutating func encode(_ value: JSONValue) {
        switch value {
        case .null:
            bytes.append(0x00)
        case .bool(let b):
            bytes.append(0x01)
            bytes.append(b ? 1 : 0)
        case .number(let n):
            if n.rounded() == n && abs(n) < 9.007_199_254_740_992e15 {
                bytes.append(0x02)
                appendLE(UInt64(bitPattern: Int64(n)))
            } else {
                bytes.append(0x03)
                appendLE(n.bitPattern)
            }
        case .string(let s):
            encodeString(s)
        case .array(let a):
            bytes.append(0x05)
            appendLE(UInt64(a.count))
            for v in a { encode(v) }
        case .object(let o):
            bytes.append(0x06)
            appendLE(UInt64(o.count))
            let keys = o.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for k in keys {
                encodeString(k)
                encode(o[k]!)
            }
        }
    }

    private mutating func encodeString(_ s: String) {
        bytes.append(0x04)
        let utf8 = Array(s.utf8)
        appendLE(UInt64(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    private mutating func appendLE(_ v: UInt64) {
        var x = v
        for _ in 0..<8 {
            bytes.append(UInt8(truncatingIfNeeded: x))
            x >>= 8
        }
    }
}
