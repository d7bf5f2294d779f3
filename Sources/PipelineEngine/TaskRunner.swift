import Foundation

/// Executes one described task in the current process: builds its context from the cache, runs the
/// kind, and publishes the entry atomically. Shared by the local executor and `pipe worker`.
public struct TaskRunner: Sendable {
    /// The cache.
    public let cache: CacheStore
    /// The kinds.
    public let registry: StageRegistry

    public init(cache: CacheStore, registry: StageRegistry) {
        self.cache = cache
        self.registry = registry
    }

    /// Runs `task` (blocking) and returns its manifest. Reuses an existing entry of the same key.
    /// - Throws: ``PipeError`` `.taskFailed` with the kind's error, `.interrupted` if cancelled.
    public func execute(_ task: TaskDescription, attempt: Int = 1, cancellation: CancellationFlag) throws -> Manifest {
        if let existing = cache.completeEntry(for: task.key) { return existing }
        guard let kind = registry.kind(named: task.kind) else {
            throw PipeError(.cache, "this binary has no stage kind '\(task.kind)'")
        }
        guard kind.version == task.kindVersion else {
            throw PipeError(.cache, "kind '\(task.kind)' is version \(kind.version) here, but the task was planned for version \(task.kindVersion)")
        }
        var inputs: [TaskInput] = []
        for i in task.inputs {
            var files: [String: URL] = [:]
            for o in i.outputs { files[o.name] = URL(fileURLWithPath: cache.outputPath(i.key, o.name)) }
            inputs.append(TaskInput(fromIndex: i.fromIndex, scope: i.scope, files: files))
        }
        var sources: [String: URL] = [:]
        for s in task.sources { sources[s.name] = URL(fileURLWithPath: s.path) }
        let temp = try cache.makeTemporaryEntry(for: task.key)
        let logURL = URL(fileURLWithPath: cache.logPath(task.key))
        let startDate = Date()
        let started = Timestamp.iso8601(startDate)
        do {
            let context = TaskContext(params: task.params, scope: task.scope, inputs: inputs, sources: sources,
                                      outputDirectory: URL(fileURLWithPath: temp + "/out"), logFile: logURL,
                                      cancellation: cancellation)
            context.log("== \(started) \(task.stage) \(task.scope.label) key \(task.key) attempt \(attempt) (pid \(getpid()))")
            do {
                try kind.run(context)
            } catch {
                context.log("error: \(error)")
                throw error
            }
            try context.checkCancellation()
            let seconds = Date().timeIntervalSince(startDate)
            context.log("finished in \(String(format: "%.3f", seconds)) s")
            return try cache.publish(temporary: temp, task: task, started: started, seconds: seconds,
                                     peakRSS: FileSystem.peakRSS(), tool: EngineVersion.string,
                                     knownDigests: context.outputDigests)
        } catch let e as PipeError where e.code == .interrupted {
            FileSystem.remove(temp)
            throw e
        } catch {
            FileSystem.remove(temp)
            if cancellation.isCancelled { throw PipeError(.interrupted, "cancelled") }
            let message = (error as? PipeError)?.message ?? "\(error)"
            throw PipeError(.taskFailed, message)
        }
    }
}
