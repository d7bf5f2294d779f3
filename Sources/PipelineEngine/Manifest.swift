/// The record that makes a cache entry exist: written last, inside the entry, before the rename.
///
/// Holds the task's description, its outputs with digests and sizes, timings, peak memory and the
/// tool version. An entry folder without a readable manifest is not an entry.
public struct Manifest: Sendable, Equatable {
    /// Manifest format version.
    public static let formatVersion = 1
    /// What was run.
    public var task: TaskDescription
    /// Output files, sorted by name.
    public var outputs: [OutputFile]
    /// ISO-8601 start time.
    public var started: String
    /// Wall-clock seconds of the successful attempt.
    public var seconds: Double
    /// Peak resident memory in bytes (of the executing process).
    public var peakRSS: UInt64
    /// The engine version that wrote the entry.
    public var tool: String
    /// CPU seconds (user + system) of the task, where it ran alone in its process (the worker
    /// and Slurm executors); nil in a local run, whose threads share one process.
    public var cpuSeconds: Double?

    public init(task: TaskDescription, outputs: [OutputFile], started: String, seconds: Double, peakRSS: UInt64, tool: String,
                cpuSeconds: Double? = nil) {
        self.task = task; self.outputs = outputs; self.started = started
        self.seconds = seconds; self.peakRSS = peakRSS; self.tool = tool; self.cpuSeconds = cpuSeconds
    }

    /// JSON form.
    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "format": .number(Double(Self.formatVersion)), "task": task.json,
            "outputs": .array(outputs.map(\.json)), "started": .string(started),
            "seconds": .number(seconds), "peakRSS": .number(Double(peakRSS)), "tool": .string(tool),
        ]
        if let cpuSeconds { o["cpuSeconds"] = .number(cpuSeconds) }
        return .object(o)
    }

    /// Decodes ``json``; `nil` if malformed or of another format.
    public init?(json: JSONValue) {
        guard json["format"]?.intValue == Self.formatVersion,
              let task = json["task"].flatMap(TaskDescription.init(json:)),
              let outs = json["outputs"]?.arrayValue else { return nil }
        let files = outs.compactMap(OutputFile.init(json:))
        guard files.count == outs.count else { return nil }
        // Every number read from disk is checked: a manifest with an impossible value is corrupt.
        let seconds = json["seconds"]?.numberValue ?? 0
        guard seconds.isFinite, seconds >= 0 else { return nil }
        var peak: UInt64 = 0
        if let p = json["peakRSS"] {
            guard let v = p.exactInteger(UInt64.self) else { return nil }
            peak = v
        }
        var cpu: Double?
        if let c = json["cpuSeconds"] {
            guard let v = c.numberValue, v.isFinite, v >= 0 else { return nil }
            cpu = v
        }
        self.init(task: task, outputs: files, started: json["started"]?.stringValue ?? "",
                  seconds: seconds, peakRSS: peak, tool: json["tool"]?.stringValue ?? "", cpuSeconds: cpu)
    }
}
