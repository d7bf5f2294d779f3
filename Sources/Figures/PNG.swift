internal import CZlib

/// A minimal PNG encoder (ISO/IEC 15948): 8-bit RGB or RGBA, no interlace, each row with filter 0
/// (None), the image data compressed by zlib into one IDAT chunk. Every chunk carries its CRC-32
/// (zlib's `crc32`). The same pixels give the same bytes: no time or text chunks.
public enum PNG {
    public enum Pixels: Sendable {
        case rgb
        case rgba
        var channels: Int { self == .rgb ? 3 : 4 }
        var colourType: UInt8 { self == .rgb ? 2 : 6 }
    }

    public struct EncodingError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The PNG file of a `width` × `height` image, rows top to bottom, `pixels.channels` bytes per
    /// pixel.
    public static func encode(width: Int, height: Int, pixels kind: Pixels, data: [UInt8]) throws -> [UInt8] {
        guard width > 0, height > 0, width <= 1 << 24, height <= 1 << 24 else {
            throw EncodingError(description: "PNG: image size \(width) x \(height) is outside 1...16777216")
        }
        let rowBytes = width * kind.channels
        guard data.count == rowBytes * height else {
            throw EncodingError(description: "PNG: \(data.count) bytes for a \(width) x \(height) image of \(kind.channels) channels (expected \(rowBytes * height))")
        }
        var raw = [UInt8](repeating: 0, count: (rowBytes + 1) * height)
        data.withUnsafeBufferPointer { src in
            raw.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    // Byte 0 of each row is the filter type, 0 (None).
                    (dst.baseAddress! + y * (rowBytes + 1) + 1).update(from: src.baseAddress! + y * rowBytes, count: rowBytes)
                }
            }
        }
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var header: [UInt8] = []
        header += bigEndian(UInt32(width)) + bigEndian(UInt32(height))
        header += [8, kind.colourType, 0, 0, 0]  // bit depth, colour type, deflate, filter method 0, no interlace
        appendChunk("IHDR", header, to: &out)
        appendChunk("IDAT", try deflate(raw), to: &out)
        appendChunk("IEND", [], to: &out)
        return out
    }

    /// The width and height a PNG file's header (IHDR, its first chunk) gives; nil when `bytes`
    /// do not start as a PNG file.
    public static func size(_ bytes: [UInt8]) -> (width: Int, height: Int)? {
        guard bytes.count >= 24, bytes[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]),
              bytes[12..<16].elementsEqual(Array("IHDR".utf8)) else { return nil }
        func word(_ at: Int) -> Int { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        return (word(16), word(20))
    }

    /// CRC-32 (ISO 3309, as PNG and gzip use it) of `bytes`, continuing from `crc`.
    public static func crc(_ bytes: [UInt8], continuing crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBufferPointer { b in
            UInt32(crc32(uLong(crc), b.baseAddress, uInt(b.count)))
        }
    }

    private static func appendChunk(_ type: String, _ payload: [UInt8], to out: inout [UInt8]) {
        let typeBytes = Array(type.utf8)
        out += bigEndian(UInt32(payload.count))
        out += typeBytes + payload
        out += bigEndian(crc(payload, continuing: crc(typeBytes)))
    }

    private static func bigEndian(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }

    /// zlib-wrapped deflate of `bytes` at level 6.
    private static func deflate(_ bytes: [UInt8]) throws -> [UInt8] {
        var size = compressBound(uLong(bytes.count))
        var out = [UInt8](repeating: 0, count: Int(size))
        let status = out.withUnsafeMutableBufferPointer { o in
            bytes.withUnsafeBufferPointer { i in compress2(o.baseAddress, &size, i.baseAddress, uLong(i.count), 6) }
        }
        guard status == Z_OK else { throw EncodingError(description: "PNG: zlib compress2 failed (\(status))") }
        return Array(out[0..<Int(size)])
    }
}
