import Foundation

/// UTC timestamps for manifests, journals and lock files, without a (costly) formatter object.
public enum Timestamp {
    /// `yyyy-MM-ddTHH:mm:ssZ` (ISO 8601, UTC) of `date`.
    public static func iso8601(_ date: Date = Date()) -> String {
        format(date, "%04d-%02d-%02dT%02d:%02d:%02dZ")
    }

    /// `yyyyMMddTHHmmssZ` of `date` (run ids: sort by time).
    public static func compact(_ date: Date = Date()) -> String {
        format(date, "%04d%02d%02dT%02d%02d%02dZ")
    }

    private static func format(_ date: Date, _ pattern: String) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(format: pattern, Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }
}
