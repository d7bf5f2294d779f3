import Foundation
import PipelineEngine

/// Plain words for why a Foundation call failed, for messages that already name the file.
///
/// Foundation's errors print as `Error Domain=NSCocoaErrorDomain Code=260 "The file doesn’t
/// exist." UserInfo={...}`, and Codable's as an enum dump. This gives what a person needs:
/// - a file-system error: strerror(3)'s words for its POSIX code ("No such file or directory",
///   "Permission denied"), from the error itself or its underlying error;
/// - a JSON parse or write error (Cocoa code 3840): "invalid JSON (<the detail>)";
/// - a Codable error: the key path and what was wrong ("missing key 'voxelCount'");
/// - `PipeError`: its message (which already says strerror's words); anything else: its description.
enum ErrorReason {
    static func of(_ error: any Error) -> String {
        if let e = error as? PipeError { return e.message }
        if let e = error as? DecodingError { return decoding(e) }
        if let e = error as? EncodingError, case .invalidValue(let value, let context) = e {
            return "cannot encode \(value) at '\(keyPath(context.codingPath))' in JSON"
        }
        if error is InputError { return "\(error)" }
        if let e = error as? POSIXError { return String(cString: strerror(e.code.rawValue)) }
        let ns = error as NSError
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        guard ns.domain == NSCocoaErrorDomain else { return "\(error)" }
        // The underlying error may be stored as an NSError or as a Swift error.
        if let underlying = ns.userInfo[NSUnderlyingErrorKey].flatMap({ $0 as? any Error }) {
            let u = underlying as NSError
            if u.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(u.code))) }
        }
        switch CocoaError.Code(rawValue: ns.code) {
        case .fileNoSuchFile, .fileReadNoSuchFile: return String(cString: strerror(ENOENT))
        case .fileReadNoPermission, .fileWriteNoPermission: return String(cString: strerror(EACCES))
        case .fileWriteOutOfSpace: return String(cString: strerror(ENOSPC))
        case .fileWriteVolumeReadOnly: return String(cString: strerror(EROFS))
        case .fileWriteFileExists: return String(cString: strerror(EEXIST))
        case .propertyListReadCorrupt:
            let detail = ns.userInfo[NSDebugDescriptionErrorKey] as? String
            return "invalid JSON" + (detail.map { " (\($0))" } ?? "")
        default:
            return "file error \(ns.code)"
        }
    }

    private static func decoding(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "missing key '\(keyPath(context.codingPath + [key]))'"
        case .typeMismatch(let type, let context):
            return "'\(keyPath(context.codingPath))' is not a \(type)"
        case .valueNotFound(let type, let context):
            return "'\(keyPath(context.codingPath))' is null; expected a \(type)"
        case .dataCorrupted(let context):
            if let underlying = context.underlyingError { return of(underlying) }
            return context.codingPath.isEmpty ? "invalid JSON" : "'\(keyPath(context.codingPath))' is invalid"
        @unknown default:
            return "not the expected JSON"
        }
    }

    private static func keyPath(_ path: [any CodingKey]) -> String {
        // contrasts[0].significant_clusters
        path.isEmpty ? "(root)" : path.enumerated().map { i, key in
            key.intValue.map { "[\($0)]" } ?? (i == 0 ? "" : ".") + key.stringValue
        }.joined()
    }
}
