import Foundation

/// The on-disk cache: a folder holding
/// ```
/// lock                 the run lock (flock + JSON holder info)
/// tasks/<key>/         entries: out/<files>, outputs.tsv, manifest.json (written last)
/// tmp/                 entries being written; removed at the next locked run
/// specs/<key>.json     task descriptions persisted before execution (for `pipe worker`)
/// logs/<key>.log       per-task logs
/// index/<study>/<stage>.tsv  last key per (stage, scope) of one study, for `pipe plan`'s reasons
/// journal/<run>.jsonl  run journals
/// digests.tsv          source-digest memo keyed by (dev, inode, size, mtime_ns, ctime_ns)
/// ```
/// Safe to share between studies; all content is addressed by task key.
public struct CacheStore: Sendable {
    /// The cache root.
    public let root: URL

    /// Whether reading entries may not change the cache: no unsynced output of another boot is
    /// removed and no output list is refreshed (``entryState(for:tasks:)``). For commands that run
    /// without the cache lock (`pipe plan`), so they never write under a run that holds it.
    public let readOnly: Bool

    /// Creates a store rooted at `root` (not touching the disk).
    /// - Parameter readOnly: see ``readOnly``.
    public init(root: URL, readOnly: Bool = false) {
        let standardized = root.standardizedFileURL
        self.root = standardized
        self.readOnly = readOnly
        // Built once: entryPath runs for every task of every plan, and a Foundation URL append
        // per call was a sixth of a 100,000-task no-op rerun.
        let path = { (name: String) in standardized.appendingPathComponent(name).path }
        tasksPath = path("tasks"); tmpPath = path("tmp"); specsPath = path("specs"); logsPath = path("logs")
        indexPath = path("index"); journalPath = path("journal"); lockPath = path("lock"); memoPath = path("digests.tsv")
    }

    /// Entries found (``entryState(for:tasks:)``) with outputs published unsynced under this boot
    /// of the machine by a run that did not live to sync them (killed, or its sync failed). A run
    /// that serves one syncs it (``takeLeftUnsynced(_:)``), so a kill costs no recomputation after
    /// a later reboot. Shared by the copies of this store.
    private let leftUnsynced = Locked<Set<String>>([])

    /// Whether entry `key` was found with outputs left unsynced under this boot; forgets it.
    public func takeLeftUnsynced(_ key: String) -> Bool {
        leftUnsynced.withLock { $0.remove(key) != nil }
    }

    public let tasksPath: String
    public let tmpPath: String
    /// Dropped files kept in `tmp/` for reuse by large mapped outputs (``SpareFiles``).
    public var spares: SpareFiles { SpareFiles(directory: tmpPath) }
    public let specsPath: String
    public let logsPath: String
    public let indexPath: String
    public let journalPath: String
    public let lockPath: String
    public let memoPath: String

    /// Creates the cache folders if missing.
    public func ensureLayout() throws {
        for p in [tasksPath, tmpPath, specsPath, logsPath, indexPath, journalPath] {
            if !FileSystem.exists(p) { try FileSystem.makeDirectory(p) }
        }
    }

    /// The entry folder of `key`.
    public func entryPath(_ key: String) -> String { tasksPath + "/" + key }

    /// The path of output `name` of entry `key`.
    public func outputPath(_ key: String, _ name: String) -> String { entryPath(key) + "/out/" + name }

    /// The log file of `key`.
    public func logPath(_ key: String) -> String { logsPath + "/" + key + ".log" }

    /// The task description file of `key`.
    public func descriptionPath(_ key: String) -> String { specsPath + "/" + key + ".json" }

    /// The manifest of entry `key`, or `nil` when there is no (valid) entry.
    public func manifest(for key: String) -> Manifest? {
        guard let bytes = try? FileSystem.read(entryPath(key) + "/manifest.json"),
              let json = try? JSONValue.parse(bytes: bytes, file: "manifest.json"),
              let m = Manifest(json: json), m.task.key == key else { return nil }
        return m
    }

    /// The outputs of entry `key` if it exists and is intact (see ``entryState(for:tasks:)``);
    /// `nil` when it is missing or damaged. This is the planner's hot path.
    /// - Parameter tasks: an open handle on ``tasksPath``, to avoid full path walks (optional).
    public func entryOutputs(for key: String, tasks: DirectoryHandle? = nil) -> [OutputFile]? {
        if case .intact(let outputs) = entryState(for: key, tasks: tasks) { return outputs }
        return nil
    }

    /// What the cache holds under a key.
    public enum EntryState: Sendable, Equatable {
        /// No entry (no manifest, or an unreadable output list).
        case missing
        /// An entry whose output files are those its output list records.
        case intact([OutputFile])
        /// An entry whose files were changed after it was written: what is wrong.
        case damaged(String)
        /// An entry of a `keep: false` stage whose data files were dropped once every task that
        /// read them was cached: its manifest and output digests remain, so its key and its
        /// dependents' keys stand; it is recomputed only when a task needs the dropped files
        /// (`missing`, the names of the outputs no longer there) again. Its other outputs are
        /// checked as an intact entry's are.
        case dropped([OutputFile], missing: Set<String>)
    }

    /// Whether entry `key` exists and its files are still the ones it recorded.
    ///
    /// Reads the compact `outputs.tsv` (no JSON parse) and stats every output: its size must be
    /// the recorded one. When the recorded inode and modification time also match, the file is
    /// taken as unchanged; otherwise (a copied or restored cache, an edited file) it is rehashed,
    /// and a digest that differs from the recorded one makes the entry damaged. A matching
    /// rehash refreshes the recorded identities, so the next check is a stat again. An entry
    /// whose missing outputs are all among those its drop marker names is dropped.
    /// An output published without fsync (``TaskRunner/unsyncedBoot``) under another boot of the
    /// machine is dropped too: a crash may have lost its data, even with its size intact. Its file,
    /// if there, is removed (the drop marker first, as ``dropData(_:drops:removeLater:)`` does), so
    /// it is recomputed when a task needs it. A ``readOnly`` store reports the same state and
    /// changes nothing: the run that next holds the lock drops them.
    /// Checked on every plan and run; `pipe cache verify` rehashes everything.
    public func entryState(for key: String, tasks: DirectoryHandle? = nil) -> EntryState {
        let dir = entryPath(key)
        let bytes: [UInt8]?
        if let tasks {
            guard tasks.exists(key + "/manifest.json") else { return .missing }
            bytes = tasks.read(key + "/outputs.tsv")
        } else {
            guard FileSystem.exists(dir + "/manifest.json") else { return .missing }
            bytes = try? FileSystem.read(dir + "/outputs.tsv")
        }
        guard let bytes, let recorded = Self.decodeOutputs(bytes) else { return .missing }
        var refreshed = recorded
        var changed = false
        var missing: Set<String> = []
        // The marker is read only when a file is missing: an entry whose files are all in place is
        // intact (its files checked as any entry's), even if a drop was cut short.
        var droppable: Set<String>??
        let lost = recorded.filter { $0.unsyncedBoot.map { $0 != Self.bootID } ?? false }.map(\.file)
        if !lost.isEmpty && !readOnly { Self.dropLost(lost, of: recorded.map(\.file), in: dir) }
        if !readOnly && !Self.bootID.isEmpty && recorded.contains(where: { $0.unsyncedBoot == Self.bootID }) {
            leftUnsynced.withLock { _ = $0.insert(key) }
        }
        for (i, r) in recorded.enumerated() {
            let path = dir + "/out/" + r.file.name
            if lost.contains(r.file) { missing.insert(r.file.name); continue }
            func identity() -> FileSystem.FileIdentity? {
                (tasks.flatMap { $0.identity(key + "/out/" + r.file.name) }) ?? (try? FileSystem.identity(of: path)) ?? nil
            }
            var found = identity()
            if found == nil {
                if droppable == nil {
                    let marker = tasks.map { $0.read(key + "/" + Self.droppedMarker) } ?? (try? FileSystem.read(dir + "/" + Self.droppedMarker))
                    droppable = .some(marker.flatMap { Self.decodeDropMarker($0, outputs: recorded.map(\.file.name)) })
                }
                if let names = droppable!, names.contains(r.file.name) {
                    missing.insert(r.file.name)
                    continue
                }
                // A restore (`restoreDropped`) moves the files back before it removes the marker, so
                // a file missing before the marker was gone is there now: look again.
                found = identity()
            }
            guard let id = found else { return .damaged("output \(r.file.name) is missing") }
            if id.size != r.file.size {
                return .damaged("output \(r.file.name) is \(id.size) bytes, the entry recorded \(r.file.size)")
            }
            if r.inode == id.inode && r.mtimeNs == id.mtimeNs { continue }
            guard let digest = try? FileSystem.sha256(ofFile: path) else {
                return .damaged("output \(r.file.name) cannot be read")
            }
            if digest != r.file.sha256 {
                return .damaged("output \(r.file.name) was changed after it was written (digest \(digest.prefix(12)), recorded \(r.file.sha256.prefix(12)))")
            }
            refreshed[i].inode = id.inode
            refreshed[i].mtimeNs = id.mtimeNs
            changed = true
        }
        if changed && !readOnly { try? FileSystem.writeAtomically(Array(Self.encodeOutputs(refreshed).utf8), to: dir + "/outputs.tsv") }
        return missing.isEmpty ? .intact(recorded.map(\.file)) : .dropped(recorded.map(\.file), missing: missing)
    }

    /// This machine's boot id, read once (``LockHolder/bootID()``).
    static let bootID = LockHolder.bootID()

    /// Makes the outputs `lost` (published unsynced under another boot) of the entry in folder
    /// `dir`, whose outputs are `outputs`, dropped: its drop marker names them (with what it named
    /// already), then their files go. Nothing is written once that is so.
    private static func dropLost(_ lost: [OutputFile], of outputs: [OutputFile], in dir: String) {
        let previous = (try? FileSystem.read(dir + "/" + droppedMarker)).flatMap { decodeDropMarker($0, outputs: outputs.map(\.name)) } ?? []
        let present = lost.filter { FileSystem.exists(dir + "/out/" + $0.name) }
        if lost.contains(where: { !previous.contains($0.name) }) {
            let dropped = outputs.filter { o in previous.contains(o.name) || lost.contains(o) }
            let marker = ([String(dropped.reduce(Int64(0)) { $0 &+ $1.size })] + dropped.map(\.name)).joined(separator: "\n") + "\n"
            guard (try? FileSystem.writeAtomically(Array(marker.utf8), to: dir + "/" + droppedMarker)) != nil else { return }
        }
        for o in present { FileSystem.remove(dir + "/out/" + o.name) }
    }

    /// One line of `outputs.tsv`: an output and, when recorded, the inode and mtime it was
    /// written with, and the boot id under which it was left unsynced.
    struct RecordedOutput: Equatable {
        var file: OutputFile
        var inode: UInt64?
        var mtimeNs: Int64?
        var unsyncedBoot: String? = nil
    }

    /// `sha256 TAB size TAB inode TAB mtime_ns TAB name` lines, then `unsynced TAB boot_id TAB name`
    /// for each output published without fsync.
    static func encodeOutputs(_ outputs: [RecordedOutput]) -> String {
        outputs.map { o in
            "\(o.file.sha256)\t\(o.file.size)\t\(o.inode.map(String.init) ?? "-")\t\(o.mtimeNs.map(String.init) ?? "-")\t\(o.file.name)\n"
        }.joined() + outputs.compactMap { o in o.unsyncedBoot.map { "unsynced\t\($0)\t\(o.file.name)\n" } }.joined()
    }

    /// Reads ``encodeOutputs(_:)`` lines, and the older `sha256 TAB size TAB name` lines (whose
    /// files are then checked by size, and rehashed once).
    static func decodeOutputs(_ bytes: [UInt8]) -> [RecordedOutput]? {
        var out: [RecordedOutput] = []
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            if line.starts(with: "unsynced\t".utf8) {
                let u = line.split(separator: UInt8(ascii: "\t"), maxSplits: 2, omittingEmptySubsequences: false)
                let name = u.count == 3 ? String(decoding: u[2], as: UTF8.self) : ""
                guard let i = out.firstIndex(where: { $0.file.name == name }), !u[1].isEmpty else { return nil }
                out[i].unsyncedBoot = String(decoding: u[1], as: UTF8.self)
                continue
            }
            let f = line.split(separator: UInt8(ascii: "\t"), maxSplits: 4, omittingEmptySubsequences: false)
            func text(_ i: Int) -> String { String(decoding: f[i], as: UTF8.self) }
            guard f.count >= 3, f[0].count == 64, let size = Int64(text(1)), size >= 0 else { return nil }
            if f.count == 5, let inode = UInt64(text(2)), let mtime = Int64(text(3)) {
                out.append(RecordedOutput(file: OutputFile(name: text(4), sha256: text(0), size: size), inode: inode, mtimeNs: mtime))
            } else if f.count == 5, text(2) == "-", text(3) == "-" {
                out.append(RecordedOutput(file: OutputFile(name: text(4), sha256: text(0), size: size)))
            } else {
                let legacy = line.split(separator: UInt8(ascii: "\t"), maxSplits: 2, omittingEmptySubsequences: false)
                guard legacy.count == 3 else { return nil }
                out.append(RecordedOutput(file: OutputFile(name: String(decoding: legacy[2], as: UTF8.self), sha256: text(0), size: size)))
            }
        }
        return out
    }

    /// The complete, intact entry of `key`: its manifest, provided the entry also has an
    /// `outputs.tsv` that agrees with it and files that match (see ``entryState(for:tasks:)``).
    /// The single definition of "this entry exists" for executors and publishing.
    public func completeEntry(for key: String) -> Manifest? {
        guard let m = manifest(for: key), case .intact(let outputs) = entryState(for: key), outputs == m.outputs else { return nil }
        return m
    }

    /// The file that marks an entry whose data files were dropped: the bytes they held on its first
    /// line, then their names, one per line (a marker with the bytes alone, as older versions
    /// wrote, dropped every output).
    static let droppedMarker = "dropped"

    /// The names a drop marker says were dropped, nil when it is unreadable.
    static func decodeDropMarker(_ bytes: [UInt8], outputs: [String]) -> Set<String>? {
        let lines = bytes.split(separator: UInt8(ascii: "\n")).map { String(decoding: $0, as: UTF8.self) }
        guard let first = lines.first, Int64(first) != nil else { return nil }
        return lines.count == 1 ? Set(outputs) : Set(lines.dropFirst())
    }

    /// The outputs of entry `key` that a drop took and that are still gone, and the bytes they
    /// held; nil when there are none. A restore cut short by a kill, after its files were back and
    /// before its marker went (`restoreDropped`), leaves the marker with the files in place: that
    /// entry is intact (`entryState`), and its data is not counted as dropped.
    public func droppedData(_ key: String) -> (names: Set<String>, bytes: Int64)? {
        guard let marker = try? FileSystem.read(entryPath(key) + "/" + Self.droppedMarker), let m = manifest(for: key),
              let names = Self.decodeDropMarker(marker, outputs: m.outputs.map(\.name)) else { return nil }
        let gone = m.outputs.filter { names.contains($0.name) && !FileSystem.exists(outputPath(key, $0.name)) }
        guard !gone.isEmpty else { return nil }
        return (Set(gone.map(\.name)), gone.reduce(Int64(0)) { $0 &+ $1.size })
    }

    /// The names of entry `key`'s outputs whose data was dropped (empty when none was).
    public func droppedOutputs(_ key: String) -> Set<String> {
        guard let bytes = try? FileSystem.read(entryPath(key) + "/" + Self.droppedMarker), let m = manifest(for: key) else { return [] }
        return Self.decodeDropMarker(bytes, outputs: m.outputs.map(\.name)) ?? []
    }

    /// Drops the data files of an intact entry that `drops` names (the stage kind's
    /// ``StageKind/dropsOutput(named:)``), keeping its manifest, output list and other files: the
    /// marker is written first, so a kill leaves an entry that is dropped (or still whole), never
    /// one that looks intact without its files. Call only under the lock.
    /// - Parameter removeLater: when given, each file is moved into `tmp/` (a rename, so the entry
    ///   is dropped when this returns) and handed to it to be deleted; deleting a large file can
    ///   take tens of milliseconds, which a run's control loop should not wait for. `tmp/` is
    ///   emptied when the next run starts, should the deletion not happen.
    /// - Returns: the bytes freed (0 when the entry was not intact or drops nothing).
    @discardableResult
    public func dropData(_ key: String, drops: (String) -> Bool = { _ in true }, removeLater: ((String) -> Void)? = nil) -> Int64 {
        guard case .intact(let outputs) = entryState(for: key) else { return 0 }
        let dropped = outputs.filter { drops($0.name) }
        guard !dropped.isEmpty else { return 0 }
        let bytes = dropped.reduce(Int64(0)) { $0 &+ $1.size }
        let marker = ([String(bytes)] + dropped.map(\.name)).joined(separator: "\n") + "\n"
        do { try FileSystem.writeAtomically(Array(marker.utf8), to: entryPath(key) + "/" + Self.droppedMarker) } catch { return 0 }
        for o in dropped {
            let path = entryPath(key) + "/out/" + o.name
            let trash = tmpPath + "/dropped.\(key).\(getpid()).\(UInt64.random(in: 0...UInt64.max))"
            if let removeLater, (try? FileSystem.rename(path, trash)) != nil {
                removeLater(trash)
            } else {
                FileSystem.remove(path)
            }
        }
        return bytes
    }

    /// Removes an entry and its task description: renamed into `tmp/` first, so it disappears
    /// atomically (a kill leaves either the whole entry or none).
    public func removeEntry(_ key: String) {
        let trash = tmpPath + "/removed.\(key).\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        if (try? FileSystem.rename(entryPath(key), trash)) != nil {
            FileSystem.remove(trash)
        } else {
            FileSystem.remove(entryPath(key))
        }
        FileSystem.remove(descriptionPath(key))
    }

    /// Persists a task description so another process can execute it (`pipe worker`).
    public func writeDescription(_ d: TaskDescription) throws {
        // Atomic (rename) but not fsynced: it is rewritten before every execution of the task.
        try FileSystem.writeAtomically(Array(d.json.serialized(pretty: true).utf8), to: descriptionPath(d.key), sync: false)
    }

    /// Reads a persisted task description, and checks that it hashes to `key`: an edited
    /// description would otherwise publish other work under the original key.
    public func readDescription(_ key: String) throws -> TaskDescription {
        guard let bytes = try? FileSystem.read(descriptionPath(key)) else {
            throw PipeError(.cache, "no task description for key \(key) in \(root.path) (`pipe run` writes one just before it starts the task)")
        }
        guard let json = try? JSONValue.parse(bytes: bytes), let d = TaskDescription(json: json), d.key == key else {
            throw PipeError(.cache, "corrupt task description \(descriptionPath(key))")
        }
        guard d.computedKey == key else {
            throw PipeError(.cache, "task description \(descriptionPath(key)) does not hash to its key (it was edited); refusing to run it")
        }
        return d
    }

    /// Creates a fresh temporary entry folder (with an `out/` subfolder) inside the cache.
    public func makeTemporaryEntry(for key: String) throws -> String {
        let p = tmpPath + "/\(key).\(getpid()).\(UInt64.random(in: 0...UInt64.max))"
        try FileSystem.makeDirectory(p + "/out")
        return p
    }

    /// Removes every temporary folder, except those of `keeping` (tasks whose cluster jobs, started
    /// by an earlier run, still run). Call only while holding the lock, before any worker starts.
    public func cleanTemporary(keeping: Set<String> = []) {
        for name in FileSystem.list(tmpPath) where !keeping.contains(String(name.prefix { $0 != "." })) {
            FileSystem.remove(tmpPath + "/" + name)
        }
    }

    /// Keys of every complete entry, sorted.
    public func allKeys() -> [String] {
        FileSystem.list(tasksPath).filter { $0.count == 64 }.sorted()
    }

    /// The index file of one study's stage: `index/<study>/<stage>.tsv`. Studies sharing a cache
    /// keep separate indexes, so one study's plan never explains itself with another's keys.
    private func indexFile(study: String, stage: String) -> String {
        indexPath + "/" + study + "/" + stage + ".tsv"
    }

    /// A file-name-safe identity for a study: its name, else its output folder's path, hashed.
    public static func studyIdentity(_ spec: StudySpec) -> String {
        let text = spec.name.map { "name:" + $0 } ?? "outputs:" + spec.outputDirectory.standardizedFileURL.path
        return String(FileSystem.hex(SHA256.hash(data: Data(text.utf8))).prefix(16))
    }

    /// Reads a study's per-stage index: scope label -> last key.
    public func readIndex(study: String, stage: String) -> [String: String] {
        guard let bytes = try? FileSystem.read(indexFile(study: study, stage: stage)) else { return [:] }
        var out: [String: String] = [:]
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            guard let tab = line.firstIndex(of: UInt8(ascii: "\t")) else { continue }
            out[String(decoding: line[..<tab], as: UTF8.self)] = String(decoding: line[(tab + 1)...], as: UTF8.self)
        }
        return out
    }

    /// Records `entries` (scope label and key, in task order) in a study's per-stage index,
    /// keeping the scopes it holds that `entries` does not name. Written in task order, then those
    /// other scopes sorted, so that an index that already holds exactly `entries` is recognised
    /// by its bytes, without parsing (a no-op rerun of a large study), and left alone. Rewritten
    /// only when its contents or that order differ.
    public func updateIndex(study: String, stage: String, _ entries: [(scope: String, key: String)]) throws {
        var text = ""
        text.reserveCapacity(entries.count * 96)
        for e in entries { text += e.scope; text += "\t"; text += e.key; text += "\n" }
        let path = indexFile(study: study, stage: stage)
        let current = try? FileSystem.read(path)
        if let current, current.elementsEqual(text.utf8) { return }
        let named = Set(entries.map(\.scope))
        let old = current == nil ? [:] : readIndex(study: study, stage: stage)
        for k in old.keys.sorted() where !named.contains(k) { text += "\(k)\t\(old[k]!)\n" }
        if let current, current.elementsEqual(text.utf8) { return }
        try FileSystem.makeDirectory(indexPath + "/" + study)
        try FileSystem.writeAtomically(Array(text.utf8), to: path)
    }
}
