/// Counts with their noun in the right number ("1 task", "2 tasks"), and sizes for people.
enum Plural {
    static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

    /// Bytes as B, KiB, MiB, GiB or TiB with three significant digits ("812 B", "10.8 MiB").
    static func bytes(_ n: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(n), i = 0
        while value >= 1024 && i < units.count - 1 { value /= 1024; i += 1 }
        if i == 0 { return "\(n) B" }
        return (value >= 100 ? String(format: "%.0f", value) : value >= 10 ? String(format: "%.1f", value) : String(format: "%.2f", value)) + " " + units[i]
    }
}
