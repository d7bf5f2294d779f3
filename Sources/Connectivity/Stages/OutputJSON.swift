import Foundation

/// The one way a stage kind writes its JSON outputs, and reads another stage's: `Codable` values
/// as pretty-printed JSON with sorted keys and unescaped slashes (`JSONEncoder` with
/// `.prettyPrinted, .sortedKeys, .withoutEscapingSlashes`).
///
/// What one stage writes and another reads is a type used on both sides (`GroupSummary`,
/// `CleanedScan.Info`, …), so a renamed field fails to compile in both. Keys sort by their UTF-8
/// bytes (`"max_F"` before `"max_abs_t"`). NaN and ±infinity are not JSON: encoding one throws,
/// naming the file and the field, rather than writing a file no JSON reader accepts.
enum OutputJSON {
    /// The JSON bytes of `value`.
    /// - Parameter name: the file's name, for the error.
    /// - Throws: `InputError` naming `name` and the field that cannot be written (a NaN, say).
    static func encode<T: Encodable>(_ value: T, name: String) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(value))
        } catch {
            throw InputError(path: name, "cannot be written: \(ErrorReason.of(error))")
        }
    }

    /// Reads a file written by `encode` as a `T`.
    /// - Parameter what: what the file should be, for the error ("a group stage summary").
    /// - Throws: `InputError` "<path>: cannot be read as <what>: <why>", why being the file
    ///   system's words, "invalid JSON (…)", or the missing or mistyped field
    ///   (`missing key 'contrasts[0].significant_clusters'`).
    static func decode<T: Decodable>(_ type: T.Type, from url: URL, as what: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(contentsOf: url))
        } catch {
            throw InputError(path: url.path, "cannot be read as \(what): \(ErrorReason.of(error))")
        }
    }
}
