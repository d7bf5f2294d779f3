import Foundation

/// What a run does after its last task: the index, publishing, and the summary.
extension RunState {
    /// Records the latest key of every resolved task in the study's per-stage index, for `plan`'s
    /// explanations (``CacheStore/updateIndex(study:stage:_:)``: left alone when unchanged).
    /// Errors are ignored (the index is a hint).
    func saveIndex() {
        var perStage: [String: [(scope: String, key: String)]] = [:]
        var order: [String] = []
        for (i, t) in graph.tasks.enumerated() {
            guard let r = resolved[i] else { continue }
            if perStage[t.stage] == nil { order.append(t.stage) }
            perStage[t.stage, default: []].append((t.scope.label, r.key))
        }
        let study = CacheStore.studyIdentity(graph.spec)
        for stage in order { try? cache.updateIndex(study: study, stage: stage, perStage[stage]!) }
    }

    /// Drops the data of entry `u` of a `keep: false` stage (the outputs its kind's
    /// ``StageKind/dropsOutput(named:)`` names) as soon as every task that reads it is done
    /// (executed or cached) in this run: ``complete(_:key:outputs:)`` calls it for each upstream
    /// task of the task it completes, so a study's intermediates take the disk (and the page
    /// cache) of the tasks in flight, not of the whole stage. A stage read by nothing keeps its
    /// data; entries served already dropped are not looked at again. Tasks that share the entry
    /// (the same key) must all be read first. The files are renamed away here and deleted by
    /// ``DeferredRemoval``, off the control loop.
    mutating func dropIfRead(_ u: Int) {
        let stage = graph.stage(of: graph.tasks[u])
        guard stage.keep == false, dropped[u] == nil, materializing[u] == nil, status[u] == .done,
              let (key, outputs) = resolved[u] else { return }
        let holders = keepFalseHolders[key] ?? [u]
        guard holders.allSatisfy({ h in materializing[h] == nil && !graph.dependents[h].isEmpty && graph.dependents[h].allSatisfy { status[$0] == .done } })
        else { return }
        let names = Set(outputs.map(\.name).filter(stage.kind.dropsOutput(named:)))
        guard !names.isEmpty else { return }
        let remover = self.remover
        let bytes = cache.dropData(key, drops: names.contains, removeLater: { remover.remove($0) })
        for h in holders { dropped[h] = names }
        if bytes > 0 {
            emit(.dropped(stage: graph.tasks[u].stage, scope: graph.tasks[u].scope, key: key, bytes: bytes))
        }
    }

    /// At the end of a run: waits for the deferred deletions of dropped files, after a last look
    /// for entries whose readers are all done (``dropIfRead(_:)``, which each completion already
    /// called).
    mutating func dropIntermediates() {
        for i in graph.tasks.indices { dropIfRead(i) }
        remover.wait()
    }

    /// Publishes the outputs of every published stage from the cache (marked incomplete when some
    /// of the stage's tasks have no result), unless the run was interrupted or publishing is off.
    /// - Returns: the last stage's publishing error, else the record's, else `nil`.
    func publish() -> PipeError? {
        guard !interrupted && options.publishOutputs else { return nil }
        var publishError: PipeError?
        let publisher = OutputPublisher(cache: cache, outputDirectory: graph.spec.outputDirectory,
                                        study: CacheStore.studyIdentity(graph.spec))
        for (si, stage) in graph.spec.stages.enumerated() where stage.publish {
            let ids = graph.tasks.indices.filter { graph.tasks[$0].stageIndex == si }
            // An entry removed during the run (found damaged by a consumer) is not published. Only
            // a task that ran can find one damaged, so a run that ran nothing skips the check.
            let entries = ids.compactMap { resolved[$0] }.filter { executed + failed == 0 || (tasksDir?.exists($0.key) ?? true) }
            do {
                try publisher.publish(stage: stage.name, entries: entries, complete: entries.count == ids.count)
            } catch let e as PipeError { publishError = e } catch {}
        }
        do {
            try publisher.publishDescription(Provenance.datasetDescription(graph.spec, sources: graph.tasks.flatMap { $0.sources.map(\.path) }))
            let methods = Provenance.methods(graph.spec)
            try publisher.publishRootFile(Array(methods.markdown.utf8), as: "methods.md")
            if !methods.bibtex.isEmpty { try publisher.publishRootFile(Array(methods.bibtex.utf8), as: "references.bib") }
        } catch let e as PipeError { publishError = publishError ?? e } catch {}
        do { try publisher.saveRecord() } catch let e as PipeError { publishError = publishError ?? e } catch {}
        return publishError
    }

    /// The run's outcome. Tasks never started because the run stopped count as skipped.
    func summary(runID: String, seconds: Double) -> RunSummary {
        let notStarted = interrupted || stopping ? status.filter { $0 == .waiting || $0 == .ready }.count : 0
        return RunSummary(
            runID: runID, total: graph.tasks.count, executed: executed, cached: cached, failed: failed,
            skipped: skipped + notStarted, interrupted: interrupted, seconds: seconds,
            bytesHashed: IOCounters.bytesHashed, sourceBytesRead: sourceBytesRead,
            peakRSS: FileSystem.peakRSS(), failures: failures, notices: notices())
    }

    /// The notices of the resolved tasks that left one, in task order. Only entries that list a
    /// notice among their outputs are opened (not one file per task).
    func notices() -> [RunSummary.Notice] {
        graph.tasks.indices.compactMap { i in
            guard let r = resolved[i], r.outputs.contains(where: { $0.name == RunSummary.noticeFile }),
                  let text = RunSummary.notice(in: cache, key: r.key) else { return nil }
            return RunSummary.Notice(stage: graph.tasks[i].stage, scope: graph.tasks[i].scope, text: text)
        }
    }

    /// The error an interrupted run throws, after its summary.
    var interruptedError: PipeError {
        let notRun = graph.tasks.count - executed - cached
        return PipeError(.interrupted, "\(executed) tasks finished, \(cached) cached, \(notRun) not run; run again to resume")
    }
}

/// Deletes files on a serial background queue, so that the caller (a run's control loop) does not
/// wait for the file system; ``wait()`` returns once every deletion asked for so far is done.
final class DeferredRemoval: Sendable {
    private let queue = DispatchQueue(label: "pipe.deferred-removal")
    private let group = DispatchGroup()

    func remove(_ path: String) {
        queue.async(group: group) { FileSystem.remove(path) }
    }

    func wait() { group.wait() }
}
