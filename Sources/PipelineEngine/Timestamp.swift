import Foundation

/// UTC timestamps for manifests, journals and lock files, without a (costly) formatter object.
public enum Timestamp {
    /// `yyyy-MM-ddTHH:mm:ssZ` (ISO 8601, UTC) of `date`.
    public static func iso8601(_ date: Date = Date()) -> String {
        format(date, "%04d-%02d-%02dT%02d:%02d:%02dZ")
    }

    /// `yyyyMMddTHHmmss.ffffffZ` of `date`, to the microsecond (run ids: they sort by time, and
    /// two runs of one cache, which its lock keeps apart, never share a microsecond).
    public static func compact(_ date: Date = Date()) -> String {
        let micros = Int64((date.timeIntervalSince1970 * 1e6).rounded(.down))
        let (seconds, fraction) = micros.quotientAndRemainder(dividingBy: 1_000_000)
        let (s, f) = fraction < 0 ? (seconds - 1, fraction + 1_000_000) : (seconds, fraction)
        return format(Date(timeIntervalSince1970: Double(s)), "%04d%02d%02dT%02d%02d%02d") + String(format: ".%06dZ", Int(f))
    }

    private static func format(_ date: Date, _ pattern: String) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(format: pattern, Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }
}
