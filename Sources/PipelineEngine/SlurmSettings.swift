import Foundation

/// The spec's `"slurm"` block: how `pipe run --executor slurm` submits tasks. Every field is
/// optional and can be set with `--set slurm.<field>=...`. None of it enters a task key.
public struct SlurmSettings: Sendable, Equatable {
    /// `--partition`, `--account`, `--qos` (nil: the cluster's defaults).
    public var partition: String?
    public var account: String?
    public var qos: String?
    /// The time limit of a task in minutes (nil: from earlier runs of the stage, else
    /// `defaultMinutes`).
    public var minutes: Int?
    /// Extra `sbatch` arguments, passed as they are.
    public var sbatch: [String] = []
    /// The most elements of one array running at once (`--array=...%N`; nil: no throttle).
    public var throttle: Int?
    /// Seconds between two `squeue` calls.
    public var pollSeconds: Double = 2
    /// The memory request over the largest peak earlier runs of the stage measured.
    public var memoryMargin: Double = 1.5
    /// The caps of the doubling after an out-of-memory kill (MiB) and a time-limit kill (minutes).
    public var maxMemoryMiB: Int = 262_144
    public var maxMinutes: Int = 7 * 24 * 60

    /// The time limit when neither the spec nor an earlier run gives one.
    public static let defaultMinutes = 60
    static let keys = ["partition", "account", "qos", "time", "sbatch", "throttle", "poll_seconds", "memory_margin", "max_memory", "max_time"]

    public init() {}

    /// Reads the block, reporting each problem at its location.
    static func read(_ node: JSONNode, diagnostics d: SpecDiagnostics) -> SlurmSettings {
        var s = SlurmSettings()
        guard let members = node.members else {
            d.report(node.location, "slurm", "expected an object of Slurm settings, got \(node.shortDescription)")
            return s
        }
        for m in members {
            let path = "slurm.\(m.key)", v = m.value
            func string() -> String? {
                if case .string(let text) = v.kind, !text.isEmpty { return text }
                d.report(v.location, path, "expected a non-empty string, got \(v.shortDescription)")
                return nil
            }
            func number(_ range: ClosedRange<Double>, whole: Bool) -> Double? {
                if case .number(let n) = v.kind, range.contains(n), !whole || n.rounded() == n { return n }
                d.report(v.location, path, "expected a\(whole ? " whole" : "") number in \(JSONValue.format(number: range.lowerBound))...\(JSONValue.format(number: range.upperBound)), got \(v.shortDescription)")
                return nil
            }
            switch m.key {
            case "partition": s.partition = string()
            case "account": s.account = string()
            case "qos": s.qos = string()
            case "time":
                switch v.kind {
                case .number: s.minutes = number(1...Double(s.maxMinutes), whole: true).map { Int($0) }
                case .string(let text):
                    if let minutes = Self.minutes(text) { s.minutes = minutes }
                    else { d.report(v.location, path, "expected minutes, or Slurm's [days-]hours:minutes:seconds, got \"\(text)\"") }
                default: d.report(v.location, path, "expected minutes or a time such as \"2:00:00\", got \(v.shortDescription)")
                }
            case "sbatch":
                if case .array(let items) = v.kind {
                    s.sbatch = items.compactMap { item in
                        if case .string(let a) = item.kind, a.hasPrefix("-") { return a }
                        d.report(item.location, path, "expected sbatch options such as \"--constraint=avx2\", got \(item.shortDescription)")
                        return nil
                    }
                } else { d.report(v.location, path, "expected a list of sbatch options, got \(v.shortDescription)") }
            case "throttle": s.throttle = number(1...1_000_000, whole: true).map { Int($0) }
            case "poll_seconds": s.pollSeconds = number(0.05...600, whole: false) ?? s.pollSeconds
            case "memory_margin": s.memoryMargin = number(1...10, whole: false) ?? s.memoryMargin
            case "max_memory": s.maxMemoryMiB = number(1...Double(1 << 30), whole: true).map { Int($0) } ?? s.maxMemoryMiB
            case "max_time": s.maxMinutes = number(1...1_000_000, whole: true).map { Int($0) } ?? s.maxMinutes
            default:
                d.report(m.keyLocation, path, "unknown key" + EditDistance.didYouMean(m.key, among: keys) + "; known: \(keys.joined(separator: ", "))")
            }
        }
        return s
    }

    /// Minutes from Slurm's time formats: `M`, `M:S`, `H:M:S`, `D-H`, `D-H:M`, `D-H:M:S`
    /// (seconds round up); nil for anything else.
    public static func minutes(_ text: String) -> Int? {
        var days = 0, rest = Substring(text)
        if let dash = text.firstIndex(of: "-") {
            guard let d = Int(text[..<dash]), d >= 0 else { return nil }
            days = d
            rest = text[text.index(after: dash)...]
        }
        let parts = rest.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
        guard !parts.isEmpty, parts.count <= 3, parts.allSatisfy({ $0 != nil && $0! >= 0 }) else { return nil }
        let p = parts.map { $0! }
        var seconds: Int
        if days > 0 || text.contains("-") {
            // D-H, D-H:M, D-H:M:S
            seconds = days * 86_400 + p[0] * 3600 + (p.count > 1 ? p[1] * 60 : 0) + (p.count > 2 ? p[2] : 0)
        } else {
            switch p.count {
            case 1: seconds = p[0] * 60
            case 2: seconds = p[0] * 60 + p[1]
            default: seconds = p[0] * 3600 + p[1] * 60 + p[2]
            }
        }
        let minutes = (seconds + 59) / 60
        return minutes > 0 ? minutes : nil
    }
}
