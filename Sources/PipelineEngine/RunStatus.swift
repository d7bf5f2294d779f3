import Foundation

/// `pipe status`: a summary of the last run recorded in a cache's journal.
public struct RunStatus: Sendable {
    public var runID: String
    public var journal: String
    /// "finished", "failed", "interrupted", or "incomplete" (killed, or still running).
    public var outcome: String
    public var total: Int
    public var planned: [String: Int]
    public var counts: [String: Int]
    public var perStage: [(stage: String, executed: Int, cached: Int, failed: Int)]
    public var failures: [(task: String, error: String, log: String)]
    public var seconds: Double?
    public var peakRSS: UInt64?

    /// Reads the newest journal of `cache`; `nil` if there is none.
    public static func latest(in cache: CacheStore) throws -> RunStatus? {
        try recent(in: cache).latest
    }

    /// The newest run, and the newest one that executed a task when that is an older run (a
    /// no-op rerun would otherwise hide the run that computed the results).
    public static func recent(in cache: CacheStore) throws -> (latest: RunStatus?, lastThatRan: RunStatus?) {
        let names = FileSystem.list(cache.journalPath).filter { $0.hasSuffix(".jsonl") }.sorted()
        guard let last = names.last else { return (nil, nil) }
        let latest = try read(cache.journalPath + "/" + last)
        if (latest.counts["executed"] ?? 0) > 0 || (latest.counts["failed"] ?? 0) > 0 { return (latest, nil) }
        for name in names.dropLast().reversed() {
            guard let s = try? read(cache.journalPath + "/" + name) else { continue }
            if (s.counts["executed"] ?? 0) > 0 || (s.counts["failed"] ?? 0) > 0 { return (latest, s) }
        }
        return (latest, nil)
    }

    /// Reads one journal.
    public static func read(_ path: String) throws -> RunStatus {
        let name = (path as NSString).lastPathComponent
        let text = String(decoding: try FileSystem.read(path), as: UTF8.self)
        var s = RunStatus(runID: String(name.dropLast(6)), journal: path, outcome: "incomplete", total: 0,
                          planned: [:], counts: [:], perStage: [], failures: [], seconds: nil, peakRSS: nil)
        var stageOrder: [String] = []
        var stageStats: [String: (Int, Int, Int)] = [:]
        // A task served from the cache and then recomputed (its data dropped, keep: false, and
        // needed) counts as executed, not as both.
        var cachedTasks: Set<String> = []
        for line in text.split(separator: "\n") {
            guard let j = try? JSONValue.parse(String(line)), let ev = j["event"]?.stringValue else { continue }
            let stage = j["stage"]?.stringValue ?? ""
            switch ev {
            case "run-started":
                for st in j["stages"]?.arrayValue ?? [] {
                    if let n = st["name"]?.stringValue { stageOrder.append(n); stageStats[n] = (0, 0, 0) }
                    s.total += Int(st["tasks"]?.exactInteger(Int32.self).map { max(0, $0) } ?? 0)
                }
            case "planned":
                s.planned[j["status"]?.stringValue ?? "?", default: 0] += 1
            case "cached":
                s.counts["cached", default: 0] += 1; stageStats[stage, default: (0, 0, 0)].1 += 1
                cachedTasks.insert(stage + " " + (j["scope"]?.stringValue ?? ""))
            case "finished":
                s.counts["executed", default: 0] += 1; stageStats[stage, default: (0, 0, 0)].0 += 1
                if cachedTasks.remove(stage + " " + (j["scope"]?.stringValue ?? "")) != nil {
                    s.counts["cached", default: 0] -= 1; stageStats[stage, default: (0, 0, 0)].1 -= 1
                }
            case "failed":
                if j["willRetry"]?.boolValue == true { s.counts["retried", default: 0] += 1; break }
                s.counts["failed", default: 0] += 1; stageStats[stage, default: (0, 0, 0)].2 += 1
                s.failures.append(("\(stage) \(j["scope"]?.stringValue ?? "")", j["error"]?.stringValue ?? "", j["log"]?.stringValue ?? ""))
            case "skipped":
                s.counts["skipped", default: 0] += 1
            case "run-finished":
                s.seconds = j["seconds"]?.numberValue.flatMap { $0.isFinite && $0 >= 0 ? $0 : nil }
                s.peakRSS = j["peakRSS"]?.exactInteger(UInt64.self)
                // The summary's counts are authoritative: an interrupted run has no event for
                // the tasks it never started.
                for k in ["executed", "cached", "failed", "skipped"] {
                    if let v = j[k]?.exactInteger(Int32.self), v >= 0 { s.counts[k] = Int(v) }
                }
                if let t = j["total"]?.exactInteger(Int32.self), t >= 0 { s.total = Int(t) }
                if j["interrupted"]?.boolValue == true { s.outcome = "interrupted" }
                else if (j["failed"]?.intValue ?? 0) > 0 { s.outcome = "failed" }
                else { s.outcome = "finished" }
            default: break
            }
        }
        s.perStage = stageOrder.map { ($0, stageStats[$0]!.0, stageStats[$0]!.1, stageStats[$0]!.2) }
        return s
    }
}
