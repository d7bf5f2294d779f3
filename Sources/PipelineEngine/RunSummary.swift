import Foundation

/// The outcome of a run.
public struct RunSummary: Sendable {
    /// One failed task: where, why, and its log file.
    public struct Failure: Sendable {
        public var stage: String
        public var scope: Scope
        public var error: String
        public var log: String
    }

    /// A short message a task left for the person running the study, in its optional
    /// ``RunSummary/noticeFile`` output: shown after every run that resolves the task, cached or not.
    public struct Notice: Sendable {
        public var stage: String
        public var scope: Scope
        public var text: String
    }

    /// The output a task writes to leave a ``Notice`` (read up to ``noticeLimit`` bytes).
    public static let noticeFile = "notice.txt"
    static let noticeLimit = 4096

    /// The notice the cache entry `key` holds, trimmed, or nil when it left none.
    public static func notice(in cache: CacheStore, key: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: cache.outputPath(key, noticeFile)) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: noticeLimit), !data.isEmpty else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    public var runID: String
    public var total: Int
    public var executed: Int
    public var cached: Int
    public var failed: Int
    public var skipped: Int
    public var interrupted: Bool
    public var seconds: Double
    /// Bytes read to hash source files in this process (for `pipe run`: this run, planning
    /// included; see ``IOCounters``).
    public var bytesHashed: UInt64
    /// Bytes of source data given to the tasks executed in this run: the sizes of each executed
    /// task's source files, a file counted once per task that reads it (whatever executor ran it).
    /// Cached tasks read none, so a no-op rerun reports 0.
    public var sourceBytesRead: UInt64
    public var peakRSS: UInt64
    public var failures: [Failure]
    /// In task order.
    public var notices: [Notice] = []

    public var json: JSONValue {
        .object([
            "run": .string(runID), "total": .number(Double(total)), "executed": .number(Double(executed)),
            "cached": .number(Double(cached)), "failed": .number(Double(failed)), "skipped": .number(Double(skipped)),
            "interrupted": .bool(interrupted), "seconds": .number((seconds * 1000).rounded() / 1000),
            "bytesHashed": .number(Double(bytesHashed)), "sourceBytesRead": .number(Double(sourceBytesRead)),
            "peakRSS": .number(Double(peakRSS)),
            "notices": .array(notices.map {
                .object(["stage": .string($0.stage), "scope": .string($0.scope.label), "text": .string($0.text)])
            }),
            "failures": .array(failures.map {
                .object(["stage": .string($0.stage), "scope": .string($0.scope.label), "error": .string($0.error), "log": .string($0.log)])
            }),
        ])
    }
}
