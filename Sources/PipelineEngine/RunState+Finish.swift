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

    /// Drops the data of every entry of a `keep: false` stage (the outputs its kind's
    /// ``StageKind/dropsOutput(named:)`` names) once every task that reads it is done (executed
    /// or cached) in this run; a stage read by nothing keeps its data. Entries served already
    /// dropped are not looked at again.
    func dropIntermediates() {
        for (i, task) in graph.tasks.enumerated() where graph.stage(of: task).keep == false && dropped[i] == nil {
            guard status[i] == .done, let key = resolved[i]?.key, !graph.dependents[i].isEmpty,
                  graph.dependents[i].allSatisfy({ status[$0] == .done }) else { continue }
            cache.dropData(key, drops: graph.stage(of: task).kind.dropsOutput(named:))
        }
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
