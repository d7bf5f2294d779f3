import CThreadBudget
import Foundation

extension CacheStore {
    /// Turns a temporary folder holding `out/` files into the entry of `task.key`.
    ///
    /// Order: start the writeback of every output at once (see `pipe_start_writeback`), then hash
    /// and fsync each (made read-only), fsync `out/`, write and fsync
    /// `manifest.json` last, fsync the folder, rename it to `tasks/<key>`, fsync `tasks/`.
    /// With `unsynced`, the outputs are neither written back nor fsynced here (the folders and
    /// the output list and manifest are, in the same order).
    /// A kill at any point leaves either no entry or a complete one. If another process published
    /// the same key first, its entry is kept and returned. An entry of the key whose data was
    /// dropped (`keep: false`) gets the dropped files back in place (``restoreDropped``).
    /// An output whose digest the task computed while writing it (`knownDigests`) is not read
    /// back, provided its size, inode and modification time are unchanged since.
    /// - Parameter unsynced: this machine's boot id, when the run and every reader of the entry
    ///   are on this machine (``TaskRunner/unsyncedBoot``): the outputs are published without
    ///   fsync, each recorded with the boot id, and the run makes them durable in the background
    ///   (``makeDurable(_:keepingUnsynced:)``, from ``DeferredSync``) while its next tasks compute;
    ///   data that a `keep: false` stage drops soon after is left unsynced. `nil`: every output
    ///   is fsynced before the entry is renamed into place.
    /// - Returns: the manifest of the entry.
    public func publish(temporary: String, task: TaskDescription, started: String, seconds: Double,
                        peakRSS: UInt64, tool: String, cpuSeconds: Double? = nil, knownDigests: [String: OutputDigest] = [:],
                        unsynced boot: String? = nil) throws -> Manifest {
        let outDir = temporary + "/out"
        var outputs: [OutputFile] = []
        var recorded: [RecordedOutput] = []
        let names = FileSystem.list(outDir).sorted()
        if boot == nil { for name in names { _ = pipe_start_writeback(outDir + "/" + name) } }
        for name in names {
            let p = outDir + "/" + name
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: p, isDirectory: &isDir)
            if isDir.boolValue { throw PipeError(.io, "task wrote a folder '\(name)'; outputs must be files") }
            chmod(p, 0o444)
            if boot == nil { try FileSystem.fsyncPath(p) }
            let identity = try FileSystem.identity(of: p)
            let known = knownDigests[name].flatMap { $0.identity.sameContent(as: identity) ? $0.sha256 : nil }
            let digest = try known ?? FileSystem.sha256(ofFile: p)
            guard let identity else { throw PipeError(.io, "output \(name) disappeared while it was published") }
            let file = OutputFile(name: name, sha256: digest, size: identity.size)
            outputs.append(file)
            recorded.append(RecordedOutput(file: file, inode: identity.inode, mtimeNs: identity.mtimeNs,
                                           unsyncedBoot: boot))
        }
        try FileSystem.fsyncPath(outDir)
        // A compact copy of the output list, read on the hot path of planning (no JSON parse).
        try FileSystem.write(Array(CacheStore.encodeOutputs(recorded).utf8), to: temporary + "/outputs.tsv")
        let manifest = Manifest(task: task, outputs: outputs, started: started, seconds: seconds, peakRSS: peakRSS, tool: tool, cpuSeconds: cpuSeconds)
        try FileSystem.write(Array(manifest.json.serialized(pretty: true).utf8), to: temporary + "/manifest.json")
        try FileSystem.fsyncPath(temporary)
        let dest = entryPath(task.key)
        if rename(temporary, dest) != 0 {
            let e = errno
            if let existing = completeEntry(for: task.key) {
                FileSystem.remove(temporary)
                return existing
            }
            if try restoreDropped(task.key, from: temporary, outputs: recorded) {
                return manifest
            }
            if e == EEXIST || e == ENOTEMPTY {
                // An entry folder without a valid manifest: not an entry. Replace it.
                let trash = tmpPath + "/trash.\(task.key).\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
                try FileSystem.rename(dest, trash)
                FileSystem.remove(trash)
                try FileSystem.rename(temporary, dest)
            } else {
                throw PipeError(.io, "cannot publish \(dest): \(String(cString: strerror(e)))")
            }
        }
        try FileSystem.fsyncPath(tasksPath)
        return manifest
    }

    /// Makes the outputs of entry `key` left unsynced under this boot of the machine durable:
    /// each file still there is fsynced, then the output list is rewritten without their marks.
    /// Called in the background for each entry a run publishes on its machine (``DeferredSync``),
    /// and before a task that reads the entry runs on another machine (a Slurm job): that
    /// machine cannot tell whether this one restarted since, so it would count the data as lost.
    /// Outputs marked under another boot are left as they are: the planner has dropped them.
    /// - Parameter keepingUnsynced: outputs to leave as they are (the data a `keep: false` stage
    ///   drops soon after).
    /// - Returns: whether the entry changed.
    @discardableResult
    public func makeDurable(_ key: String, keepingUnsynced: (String) -> Bool = { _ in false }) throws -> Bool {
        let dir = entryPath(key)
        guard !Self.bootID.isEmpty, let bytes = try? FileSystem.read(dir + "/outputs.tsv"),
              var recorded = Self.decodeOutputs(bytes) else { return false }
        let marked = recorded.indices.filter { recorded[$0].unsyncedBoot == Self.bootID && !keepingUnsynced(recorded[$0].file.name) }
        guard !marked.isEmpty else { return false }
        for i in marked {
            let path = dir + "/out/" + recorded[i].file.name
            // A file already dropped (its drop marker names it), or being dropped now, has no
            // data to keep.
            do { try FileSystem.fsyncPath(path) } catch where !FileSystem.exists(path) {}
            recorded[i].unsyncedBoot = nil
        }
        try FileSystem.fsyncPath(dir + "/out")
        try FileSystem.writeAtomically(Array(Self.encodeOutputs(recorded).utf8), to: dir + "/outputs.tsv")
        try FileSystem.fsyncPath(dir)
        return true
    }

    /// Moves the files a dropped entry of `key` lost back into it from a recomputation in
    /// `temporary` (which is then removed), when the recomputation gave the recorded outputs: the
    /// entry never disappears, so a task reading the files it kept meanwhile is not disturbed.
    /// Each file is fsynced (by `publish`, or recorded unsynced) before it moves; the marker goes last, so a kill leaves
    /// an entry still dropped, with some of its files back (checked as any entry's). The task's
    /// manifest is returned with this recomputation's times; the entry keeps its first one.
    /// - Returns: false when `key` has no dropped entry.
    /// - Throws: when the recomputation gave other outputs than the entry records (a kind that is
    ///   not deterministic): the entry, which tasks downstream were keyed on, stays as it was.
    func restoreDropped(_ key: String, from temporary: String, outputs: [RecordedOutput]) throws -> Bool {
        guard case .dropped(let files, let missing) = entryState(for: key),
              let old = try? FileSystem.read(entryPath(key) + "/outputs.tsv"), let recorded = Self.decodeOutputs(old) else { return false }
        if files != outputs.map(\.file) {
            FileSystem.remove(temporary)
            let differing = zip(files, outputs).first { $0.0 != $0.1.file }.map { $0.0.name } ?? "the list of outputs"
            throw PipeError(.taskFailed, "recomputing entry \(key.prefix(12)), whose data was dropped (keep: false), gave other outputs than it recorded (\(differing)): the stage is not deterministic, and the entry was left as it was")
        }
        let dest = entryPath(key)
        for name in missing.sorted() { try FileSystem.rename(temporary + "/out/" + name, dest + "/out/" + name) }
        try FileSystem.fsyncPath(dest + "/out")
        // The restored files' identities, so that the next check is a stat, not a rehash.
        let fresh = Dictionary(outputs.map { ($0.file.name, $0) }, uniquingKeysWith: { a, _ in a })
        let merged = recorded.map { missing.contains($0.file.name) ? fresh[$0.file.name] ?? $0 : $0 }
        try FileSystem.writeAtomically(Array(Self.encodeOutputs(merged).utf8), to: dest + "/outputs.tsv")
        FileSystem.remove(dest + "/" + Self.droppedMarker)
        try FileSystem.fsyncPath(dest)
        FileSystem.remove(temporary)
        return true
    }
}
