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

    /// Drops the data of entry `u` of a `keep: false` stage that drops promptly
    /// (``TaskGraph/dropsPromptly``: the outputs its kind's ``StageKind/dropsOutput(named:)``
    /// names) as soon as every task that reads those outputs is done (executed or cached) in this
    /// run: ``complete(_:key:outputs:)`` calls it for the task it completes and each of its
    /// upstream tasks, so a study's intermediates take the disk (and the page cache) of the tasks
    /// in flight, not of the whole stage. Tasks that read none of the dropped outputs (`qc` and
    /// `report` of `clean`'s series) are not waited for. A stage read by nothing keeps its data;
    /// entries served already dropped are not looked at again. The files are renamed away here and
    /// deleted by ``DeferredRemoval``, off the control loop; when the executor's tasks reuse
    /// dropped files, up to one per task running at once is kept instead (``SpareFiles``).
    mutating func dropIfRead(_ u: Int) {
        guard let pending = pendingDrops[u], pending.readers.isEmpty, !pending.names.isEmpty, !graph.dependents[u].isEmpty else { return }
        drop(u, pending.names)
    }

    /// Drops entry `u`'s `names` unless it was dropped already or is being recomputed.
    private mutating func drop(_ u: Int, _ names: Set<String>) {
        guard dropped[u] == nil, materializing[u] == nil, status[u] == .done, let key = resolved[u]?.key else { return }
        let remover = self.remover, spares = cache.spares, limit = executor.runsOnThisMachine ? jobs : 0
        let bytes = cache.dropData(key, drops: names.contains, removeLater: { if !spares.keep($0, limit: limit) { remover.remove($0) } })
        dropped[u] = names
        if bytes > 0 {
            emit(.dropped(stage: graph.tasks[u].stage, scope: graph.tasks[u].scope, key: key, bytes: bytes))
        }
    }

    /// At the end of a run: drops the entries of the `keep: false` stages that do not drop
    /// promptly (another stage may share their keys), each once every task served by it is of a
    /// `keep: false` stage and has all its dependents done (a stage that keeps its data, or a
    /// reader that failed, keeps the entry whole); then waits for the deferred deletions of
    /// dropped files, and deletes the spares kept for reuse.
    mutating func dropIntermediates() {
        var holders: [String: [Int]] = [:]
        for (i, task) in graph.tasks.enumerated() where graph.stage(of: task).keep == false && !graph.dropsPromptly[task.stageIndex] {
            if let key = resolved[i]?.key { holders[key] = [] }
        }
        if !holders.isEmpty {
            for i in graph.tasks.indices { if let key = resolved[i]?.key, holders[key] != nil { holders[key]!.append(i) } }
        }
        for (_, ids) in holders.sorted(by: { $0.key < $1.key }) {
            guard ids.allSatisfy({ i in
                graph.stage(of: graph.tasks[i]).keep == false && status[i] == .done && !graph.dependents[i].isEmpty
                    && graph.dependents[i].allSatisfy { status[$0] == .done }
            }) else { continue }
            let u = ids[0], names = graph.stage(of: graph.tasks[u]).kind.droppedOutputs(resolved[u]!.outputs)
            if !names.isEmpty { drop(u, names) }
            for i in ids { dropped[i] = dropped[u] }
        }
        remover.wait()
        cache.spares.removeAll()
    }

    /// Publishes the outputs of every published stage from the cache (with a file saying which
    /// tasks have no result and which files are left from earlier, when some have none), unless
    /// the run was interrupted or publishing is off.
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
                let published = Set(entries.map(\.key))
                let missing = ids.filter { resolved[$0].map { !published.contains($0.key) } ?? true }.map { graph.tasks[$0].scope.label }
                try publisher.publish(stage: stage.name, entries: entries, missing: missing)
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

/// Makes the entries a run publishes on its machine durable on a serial background queue
/// (``CacheStore/makeDurable(_:keepingUnsynced:)``), so that neither the task that wrote them nor
/// the next one waits for the disk: a 191 MB cleaned series is fsynced while `connectivity` reads
/// it. ``wait()`` returns once every entry asked for so far is durable; the run waits before it
/// ends, so a finished run leaves its cache as durable as fsyncing each entry before publishing
/// it would. Until then the entries record this machine's boot id (``TaskRunner/unsyncedBoot``):
/// a kill loses nothing, and after a crash of the machine the files count as dropped and are
/// recomputed when a task needs them.
final class DeferredSync: Sendable {
    private let queue = DispatchQueue(label: "pipe.deferred-sync")
    private let group = DispatchGroup()
    private let failure = Locked<PipeError?>(nil)

    /// Makes entry `key` durable, except the outputs `dropsSoon` names.
    func makeDurable(_ key: String, in cache: CacheStore, dropsSoon: @escaping @Sendable (String) -> Bool) {
        let failure = self.failure
        queue.async(group: group) {
            do {
                try cache.makeDurable(key, keepingUnsynced: dropsSoon)
            } catch {
                // An entry removed meanwhile (found damaged by a reader) has nothing to keep. Any
                // other entry keeps its marks, so a crash still counts its data as lost.
                guard FileSystem.exists(cache.entryPath(key)) else { return }
                failure.withLock { $0 = $0 ?? PipeError(.io, "cannot write cache entry \(key.prefix(12)) to disk: \(error)") }
            }
        }
    }

    /// Waits for every entry asked for so far; returns the first failure.
    func wait() -> PipeError? {
        group.wait()
        return failure.current
    }
}
