extension RunEvent {
    /// The event as one JSON object (journal line / `--json` event), with `time` in Unix seconds.
    public func json(time: Double) -> JSONValue {
        var o: [String: JSONValue] = ["event": .string(name), "time": .number((time * 1000).rounded() / 1000)]
        func task(_ stage: String, _ scope: Scope) {
            o["stage"] = .string(stage)
            o["scope"] = .string(scope.label)
        }
        switch self {
        case .runStarted(let id, let stages):
            o["run"] = .string(id)
            o["stages"] = .array(stages.map { .object(["name": .string($0.name), "tasks": .number(Double($0.tasks))]) })
        case .lockTakenOver(let h):
            o["previous"] = h.json
        case .planned(let stage, let scope, let status, let key, let reasons):
            task(stage, scope)
            o["status"] = .string(status.rawValue)
            if let key { o["key"] = .string(key) }
            if !reasons.isEmpty { o["reasons"] = .array(reasons.map { .string($0) }) }
        case .cached(let stage, let scope, let key):
            task(stage, scope); o["key"] = .string(key)
        case .started(let stage, let scope, let key, let attempt):
            task(stage, scope); o["key"] = .string(key); o["attempt"] = .number(Double(attempt))
        case .finished(let stage, let scope, let key, let seconds, let rss, let cpu):
            task(stage, scope); o["key"] = .string(key)
            o["seconds"] = .number((seconds * 1e4).rounded() / 1e4); o["peakRSS"] = .number(Double(rss))
            if let cpu { o["cpuSeconds"] = .number((cpu * 1e4).rounded() / 1e4) }
        case .failed(let stage, let scope, let key, let error, let log, let attempt, let retry):
            task(stage, scope); o["key"] = .string(key); o["error"] = .string(error); o["log"] = .string(log)
            o["attempt"] = .number(Double(attempt)); o["willRetry"] = .bool(retry)
        case .submitted(let stage, let scope, let key, let job, let cpus, let mib, let minutes, let attempt, let resubmission):
            task(stage, scope); o["key"] = .string(key); o["job"] = .string(job)
            o["cpus"] = .number(Double(cpus)); o["memoryMiB"] = .number(Double(mib)); o["minutes"] = .number(Double(minutes))
            o["attempt"] = .number(Double(attempt)); o["resubmission"] = .number(Double(resubmission))
        case .attached(let stage, let scope, let key, let job):
            task(stage, scope); o["key"] = .string(key); o["job"] = .string(job)
        case .jobEnded(let stage, let scope, let key, let job, let state, let action):
            task(stage, scope); o["key"] = .string(key); o["job"] = .string(job); o["state"] = .string(state); o["action"] = .string(action)
        case .dropped(let stage, let scope, let key, let bytes):
            task(stage, scope); o["key"] = .string(key); o["bytes"] = .number(Double(bytes))
        case .skipped(let stage, let scope, let reason):
            task(stage, scope); o["reason"] = .string(reason)
        case .warning(let message):
            o["message"] = .string(message)
        case .runFinished(let s):
            o.merge(s.json.objectValue ?? [:]) { a, _ in a }
        }
        return .object(o)
    }
}

extension RunEvent {
    /// The event as one compact JSON line (with a trailing newline). The frequent per-task events
    /// are written directly (same content as ``json(time:)``, keys sorted), the rest through
    /// ``json(time:)``.
    public func jsonLine(time: Double) -> String {
        let t = JSONValue.format(number: (time * 1000).rounded() / 1000)
        func head() -> String {
            var s = "{\"event\":\"\(name)\""
            s.reserveCapacity(200)
            return s
        }
        switch self {
        case .planned(let stage, let scope, let status, let key, let reasons):
            var s = head()
            if let key { s += ",\"key\":\"\(key)\"" }
            if !reasons.isEmpty {
                s += ",\"reasons\":["
                for (i, r) in reasons.enumerated() {
                    if i > 0 { s += "," }
                    JSONValue.writeString(r, into: &s)
                }
                s += "]"
            }
            s += ",\"scope\":\"\(scope.label)\",\"stage\":"
            JSONValue.writeString(stage, into: &s)
            s += ",\"status\":\"\(status.rawValue)\",\"time\":\(t)}\n"
            return s
        case .cached(let stage, let scope, let key):
            var s = head()
            s += ",\"key\":\"\(key)\",\"scope\":\"\(scope.label)\",\"stage\":"
            JSONValue.writeString(stage, into: &s)
            s += ",\"time\":\(t)}\n"
            return s
        default:
            return json(time: time).serialized() + "\n"
        }
    }
}
