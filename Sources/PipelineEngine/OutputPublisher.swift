import Foundation

/// Links finished outputs from the cache into the study's output folder: `out/<stage>/<file>`.
///
/// Hard links (copies across file systems); each link replaces its destination atomically, and a
/// destination already linked to the same cache file is left alone, so publishing a no-op run
/// costs one stat per file. Outputs are never recomputed to be published.
///
/// pipe never deletes or replaces a file it did not publish. Every file it publishes is recorded
/// with its inode and birth time in the cache (`index/<study>/published-<folder>.tsv`, one record
/// per output folder, so the output folder holds nothing but outputs): the inode alone would take
/// a user's file for pipe's when the file system gives it the number of a deleted output, which
/// ext4 does readily. (Not the modification time: a damaged cache entry, rewritten in place,
/// changes it in the published hard link too, and pipe must still replace that file.) a destination that exists but is not a
/// recorded file of pipe's (a user's file, or one a user replaced) stops publishing with an error
/// naming it, unless it holds exactly the bytes pipe would put there (a copied output folder). When a stage completed, the files it published earlier and no longer produces are
/// removed; nothing else in the folder is touched. Temporary files of publishing processes that
/// died (`*.tmp-<pid>-<n>`) are removed.
public struct OutputPublisher: Sendable {
    public let cache: CacheStore
    public let outputDirectory: URL
    private let record: Locked<[String: Stamp]>
    /// The record as read, to leave it alone when a run changed nothing.
    private let recordAsRead: [String: Stamp]
    /// No record yet: a folder published by an older pipe, whose files are hard links into the
    /// cache; a destination that is a hard link is then taken as pipe's.
    private let legacy: Bool

    /// The record of what pipe published into the folder: `stage/name TAB inode TAB birth_ns`
    /// lines (no third column where the file system records no birth time, or from an older pipe).
    let recordPath: String

    /// What the record keeps of a published file.
    struct Stamp: Equatable, Sendable {
        var inode: UInt64
        /// nil: unknown (the inode alone then decides).
        var birthNs: Int64?

        init(inode: UInt64, birthNs: Int64?) { self.inode = inode; self.birthNs = birthNs }
        init(_ now: (device: UInt64, inode: UInt64, birthNs: Int64?)) { self.init(inode: now.inode, birthNs: now.birthNs) }

        /// Whether the file now at the path is the one recorded.
        func matches(_ now: (device: UInt64, inode: UInt64, birthNs: Int64?)) -> Bool {
            guard inode == now.inode else { return false }
            guard let birthNs, let born = now.birthNs else { return true }
            return birthNs == born
        }
    }

    /// - Parameter study: the study's identity in the cache (``CacheStore/studyIdentity(_:)``).
    public init(cache: CacheStore, outputDirectory: URL, study: String) {
        self.cache = cache
        self.outputDirectory = outputDirectory
        let folder = String(FileSystem.hex(SHA256.hash(data: Data(outputDirectory.standardizedFileURL.path.utf8))).prefix(16))
        recordPath = cache.indexPath + "/" + study + "/published-" + folder + ".tsv"
        recordAsRead = Self.readRecord(recordPath)
        self.record = Locked(recordAsRead)
        self.legacy = !FileSystem.exists(recordPath)
    }

    static func readRecord(_ path: String) -> [String: Stamp] {
        guard let bytes = try? FileSystem.read(path) else { return [:] }
        var out: [String: Stamp] = [:]
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            let fields = line.split(separator: UInt8(ascii: "\t"), omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            guard fields.count == 2 || fields.count == 3, let inode = UInt64(fields[1]) else { continue }
            let birth = fields.count == 3 ? Int64(fields[2]) : nil
            if fields.count == 3 && birth == nil { continue }
            out[fields[0]] = Stamp(inode: inode, birthNs: birth)
        }
        return out
    }

    /// Writes the record (atomically), unless it exists and is unchanged. Call after the stages
    /// were published.
    public func saveRecord() throws {
        let entries = record.withLock { $0 }
        if !legacy && entries == recordAsRead { return }
        var text = ""
        for k in entries.keys.sorted() {
            let stamp = entries[k]!
            text += "\(k)\t\(stamp.inode)" + (stamp.birthNs.map { "\t\($0)" } ?? "") + "\n"
        }
        try FileSystem.makeDirectory((recordPath as NSString).deletingLastPathComponent)
        try FileSystem.writeAtomically(Array(text.utf8), to: recordPath)
    }

    /// Whether `dir/name` is a file pipe published as `stage/name` (same inode and birth time as
    /// recorded).
    private func isPipeFile(_ destination: DirectoryHandle?, stage: String, name: String) -> Bool {
        // Without a record (an older pipe's folder), a regular file with several links is taken
        // as a hard link into the cache; a directory or a single-link file never is.
        if legacy, let links = destination?.regularFileLinkCount(name), links > 1 { return true }
        guard let recorded = record.withLock({ $0[stage + "/" + name] }),
              let now = destination?.birthStamp(name) else { return false }
        return recorded.matches(now)
    }

    /// Writes a file pipe generates (a sidecar, the dataset description) under the same rule as
    /// an output: never over a file it did not publish, unless that file holds these bytes.
    private func write(_ bytes: [UInt8], as name: String, in stage: String?, destination: DirectoryHandle?) throws {
        let folder = stage.map { outputDirectory.appendingPathComponent($0).path } ?? outputDirectory.path
        let path = folder + "/" + name, key = stage.map { $0 + "/" + name } ?? name
        if let current = destination?.birthStamp(name) {
            if (try? FileSystem.read(path)) == bytes { record.withLock { $0[key] = Stamp(current) }; return }
            guard let recorded = record.withLock({ $0[key] }), recorded.matches(current) else {
                throw PipeError(.io, "\(path) exists and was not written by pipe (or was replaced since); "
                                + "pipe never overwrites it: move it away, or publish elsewhere with another \"outputs\" folder")
            }
        }
        try FileSystem.writeAtomically(bytes, to: path, sync: false)
        if let now = destination?.birthStamp(name) { record.withLock { $0[key] = Stamp(now) } }
    }

    /// Writes `dataset_description.json` at the root of the output folder.
    public func publishDescription(_ description: JSONValue) throws {
        try publishRootFile(Array((description.serialized(pretty: true) + "\n").utf8), as: "dataset_description.json")
    }

    /// Writes a file pipe generates at the root of the output folder (`methods.md`, say).
    public func publishRootFile(_ bytes: [UInt8], as name: String) throws {
        if !FileSystem.exists(outputDirectory.path) { try FileSystem.makeDirectory(outputDirectory.path) }
        let root = DirectoryHandle(path: outputDirectory.path)
        // A temporary of this file left by a killed run (as `publish` clears a stage's folder).
        for other in FileSystem.list(outputDirectory.path) where other.hasPrefix(name + ".tmp-") && FileSystem.isStaleTemporary(other)
            && root?.regularFileLinkCount(other) != nil {
            FileSystem.remove(outputDirectory.path + "/" + other)
        }
        try write(bytes, as: name, in: nil, destination: root)
    }

    /// Whether the file at `path` holds exactly the bytes of `output` (a copied output folder, say):
    /// replacing it then loses nothing.
    private func holds(_ path: String, _ output: OutputFile) -> Bool {
        guard case .regular(let id) = FileSystem.kind(of: path), id.size == output.size else { return false }
        return (try? FileSystem.sha256(ofFile: path)) == output.sha256
    }

    /// For each output of `entries` in order: the identity of its destination in `destination`, if
    /// any, and whether that is the cache file itself (already linked). Two `fstatat` calls per
    /// output, in parallel over blocks of 1024 outputs: on a no-op rerun of a large study they
    /// are most of publishing.
    private static func linkedInodes(_ entries: [(key: String, outputs: [OutputFile])], destination: DirectoryHandle?,
                                     tasks: DirectoryHandle?) -> [(current: (device: UInt64, inode: UInt64, birthNs: Int64?)?, linked: Bool)] {
        let names = entries.flatMap { e in e.outputs.map { (e.key, $0.name) } }
        return parallelMap(names.count, block: 1024) { i in
            let current = destination?.birthStamp(names[i].1)
            guard let b = current, let a = tasks?.inode(names[i].0 + "/out/" + names[i].1) else { return (current, false) }
            return (current, a == (b.device, b.inode))
        }
    }

    /// The file that says a stage's folder is incomplete: which tasks have no result, and which
    /// files there are left from an earlier run (they may not match the current inputs). Removed
    /// when the stage is complete again.
    public static let incompleteFile = "INCOMPLETE.txt"

    /// Publishes `entries` (key and manifest per task) of `stage`. When no task is `missing` (the
    /// scope labels of tasks without a result), prunes files that pipe published earlier and the
    /// stage no longer produces; otherwise keeps them and lists them in ``incompleteFile``.
    /// - Throws: ``PipeError`` `.io` when a destination exists that pipe did not publish.
    public func publish(stage: String, entries: [(key: String, outputs: [OutputFile])], missing: [String] = []) throws {
        let complete = missing.isEmpty
        let dir = outputDirectory.appendingPathComponent(stage).path
        if !FileSystem.exists(dir) { try FileSystem.makeDirectory(dir) }
        var expected = Set<String>()
        var unchanged = Set<String>()   // outputs already linked to their cache file
        let destination = DirectoryHandle(path: dir)
        let tasks = DirectoryHandle(path: cache.tasksPath)
        let present = FileSystem.list(dir)
        for name in present where FileSystem.isStaleTemporary(name) && destination?.regularFileLinkCount(name) != nil {
            FileSystem.remove(dir + "/" + name)
        }
        let found = Self.linkedInodes(entries, destination: destination, tasks: tasks)
        var index = 0
        for e in entries {
            for o in e.outputs {
                let (current, linked) = found[index]
                index += 1
                guard expected.insert(o.name).inserted else {
                    throw PipeError(.io, "stage \(stage): two tasks produce an output named '\(o.name)'; a kind must give each scope its own file names")
                }
                let src = cache.outputPath(e.key, o.name)
                let dst = dir + "/" + o.name
                if linked, let b = current {
                    record.withLock { $0[stage + "/" + o.name] = Stamp(b) }
                    unchanged.insert(o.name)
                    continue
                }
                if current != nil && !isPipeFile(destination, stage: stage, name: o.name) && !holds(dst, o) {
                    throw PipeError(.io, "\(dst) exists and was not published by pipe (or was replaced since); "
                                    + "pipe never overwrites it: move it away, or publish elsewhere with another \"outputs\" folder")
                }
                try FileSystem.linkOrCopy(src, to: dst)
                if let now = destination?.birthStamp(o.name) { record.withLock { $0[stage + "/" + o.name] = Stamp(now) } }
            }
        }
        // A sidecar beside each map, unless the stage writes a file of that name itself.
        let produced = expected
        for e in entries {
            // Already published from this entry, its sidecars in place and pipe's: nothing to write
            // (a no-op run then reads no manifest).
            let names = e.outputs.compactMap { o in Provenance.sidecarName(o.name).map { (o.name, $0) } }.filter { !produced.contains($0.1) }
            if names.allSatisfy({ unchanged.contains($0.0) && isPipeFile(destination, stage: stage, name: $0.1) }) {
                for (_, sidecar) in names { expected.insert(sidecar) }
                continue
            }
            guard let task = cache.manifest(for: e.key)?.task else { continue }
            let sidecar = Array((Provenance.sidecar(task).serialized(pretty: true) + "\n").utf8)
            for o in e.outputs {
                guard let name = Provenance.sidecarName(o.name), !produced.contains(name), expected.insert(name).inserted else { continue }
                try write(sidecar, as: name, in: stage, destination: destination)
            }
        }
        if legacy {
            // An older pipe's folder: adopt its hard-linked files into the record, so that once the
            // record exists they are still known as pipe's (say, a subject whose task failed now).
            for name in present where !expected.contains(name) && isPipeFile(destination, stage: stage, name: name) {
                if let now = destination?.birthStamp(name) { record.withLock { r in if r[stage + "/" + name] == nil { r[stage + "/" + name] = Stamp(now) } } }
            }
        }
        if !complete {
            let earlier = present.filter { name in
                !expected.contains(name) && name != Self.incompleteFile && isPipeFile(destination, stage: stage, name: name)
                    && destination?.regularFileLinkCount(name) != nil
            }.sorted()
            var text = "Stage \(stage) is incomplete: \(missing.count) of its tasks have no result in the last run (failed, or not run because a "
                + "task they read failed): \(missing.listed(shown: 20)). Run again once they succeed.\n"
            text += earlier.isEmpty ? "No file here is left from an earlier run.\n"
                : "\nThese \(earlier.count) files are from an earlier run and may not match the current inputs and settings:\n"
                    + earlier.map { "  \($0)\n" }.joined()
            expected.insert(Self.incompleteFile)
            try write(Array(text.utf8), as: Self.incompleteFile, in: stage, destination: destination)
        }
        if complete {
            // Only regular files pipe published: never a folder, never a user's file.
            for name in present where !expected.contains(name) && isPipeFile(destination, stage: stage, name: name)
                && destination?.regularFileLinkCount(name) != nil {
                FileSystem.remove(dir + "/" + name)
            }
            // Forget what this stage no longer produces (removed above, or gone, or no longer pipe's).
            record.withLock { r in
                for k in r.keys where k.hasPrefix(stage + "/") && !expected.contains(String(k.dropFirst(stage.count + 1))) {
                    r[k] = nil
                }
            }
        }
    }
}

