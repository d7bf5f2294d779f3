import Foundation

/// `pipe cache ls|du|gc|verify`: listing, sizing, collecting and checking cache entries.
public struct CacheMaintenance: Sendable {
    /// One entry for listings.
    public struct Entry: Sendable {
        public var key: String
        public var stage: String
        public var scope: String
        public var bytes: Int64
        public var started: String
    }

    /// Result of verification.
    public struct VerifyReport: Sendable {
        public var checked: Int
        /// Corrupt entries (key and what was wrong); they were removed.
        public var corrupt: [(key: String, problem: String)]
        /// Entries built from a removed or missing upstream entry (key and which); removed too.
        public var orphaned: [(key: String, problem: String)] = []
        /// Whether the source-digest memo was reset (it is rebuilt by the next plan).
        public var memoReset = false
    }

    public let cache: CacheStore

    public init(cache: CacheStore) { self.cache = cache }

    /// Every entry with a readable manifest, ordered by stage, scope.
    public func list() -> [Entry] {
        var out: [Entry] = []
        for key in cache.allKeys() {
            guard let m = cache.manifest(for: key) else { continue }
            out.append(Entry(key: key, stage: m.task.stage, scope: m.task.scope.label,
                             bytes: m.outputs.reduce(0) { $0 &+ $1.size }, started: m.started))
        }
        return out.sorted { ($0.stage, $0.scope, $0.key) < ($1.stage, $1.scope, $1.key) }
    }

    /// Entries whose data was dropped (`keep: false`), and the bytes their data held.
    public func dropped() -> (entries: Int, bytes: Int64) {
        var entries = 0, bytes: Int64 = 0
        for key in cache.allKeys() {
            guard let data = cache.droppedData(key) else { continue }
            entries += 1
            bytes &+= data.bytes
        }
        return (entries, bytes)
    }

    /// Bytes used under each top-level cache folder.
    public func usage() -> [(folder: String, bytes: Int64, files: Int)] {
        ["tasks", "tmp", "specs", "logs", "index", "journal"].map { name in
            let (b, f) = Self.size(of: cache.root.appendingPathComponent(name).path)
            return (name, b, f)
        }
    }

    static func size(of path: String) -> (Int64, Int) {
        guard let e = FileManager.default.enumerator(atPath: path) else { return (0, 0) }
        var bytes: Int64 = 0, files = 0
        while let rel = e.nextObject() as? String {
            if let id = try? FileSystem.identity(of: path + "/" + rel), let attrs = e.fileAttributes,
               attrs[.type] as? FileAttributeType == .typeRegular {
                bytes += id.size
                files += 1
            }
        }
        return (bytes, files)
    }

    /// Removes every entry (with its description and log) whose key is not in `keep`, plus
    /// temporary folders. Call while holding the lock.
    /// - Returns: entries removed and bytes freed.
    public func collect(keeping keep: Set<String>) -> (removed: Int, bytes: Int64) {
        cache.cleanTemporary()
        var removed = 0
        var bytes: Int64 = 0
        for key in cache.allKeys() where !keep.contains(key) {
            bytes += Self.size(of: cache.entryPath(key)).0
            remove(key)
            removed += 1
        }
        for name in FileSystem.list(cache.specsPath) where name.hasSuffix(".json") {
            let key = String(name.dropLast(5))
            if !keep.contains(key) && !FileSystem.exists(cache.entryPath(key)) { FileSystem.remove(cache.specsPath + "/" + name) }
        }
        for name in FileSystem.list(cache.logsPath) where name.hasSuffix(".log") {
            let key = String(name.dropLast(4))
            if !keep.contains(key) && !FileSystem.exists(cache.entryPath(key)) { FileSystem.remove(cache.logsPath + "/" + name) }
        }
        return (removed, bytes)
    }

    /// Rehashes every entry's outputs against its manifest and removes those that do not match;
    /// then removes every entry built from an upstream entry that is no longer there (removed
    /// now, or missing), transitively, since it may have been computed from damaged bytes; then
    /// resets the source-digest memo, whose lines are rebuilt by hashing on the next plan.
    /// Call while holding the lock.
    public func verify() -> VerifyReport {
        var corrupt: [(String, String)] = []
        let keys = cache.allKeys()
        var valid: [String: Manifest] = [:]
        for key in keys {
            guard let m = cache.manifest(for: key) else {
                corrupt.append((key, "missing or unreadable manifest"))
                remove(key)
                continue
            }
            var problem: String?
            // Data dropped (keep: false): the outputs the marker names may be gone; the others are
            // checked as any entry's.
            let gone = cache.droppedOutputs(key)
            let present = Set(FileSystem.list(cache.entryPath(key) + "/out"))
            for o in m.outputs where !(gone.contains(o.name) && !present.contains(o.name)) {
                let p = cache.outputPath(key, o.name)
                guard let d = try? FileSystem.sha256(ofFile: p) else { problem = "output \(o.name) missing"; break }
                if d != o.sha256 { problem = "output \(o.name) has digest \(d.prefix(12)), manifest says \(o.sha256.prefix(12))"; break }
            }
            let names = Set(m.outputs.map(\.name))
            if problem == nil, !present.isSubset(of: names) || !names.subtracting(gone).isSubset(of: present) {
                problem = "output folder does not match the manifest"
            }
            if problem == nil {
                let recorded: [OutputFile]?
                switch cache.entryState(for: key) {
                case .intact(let outputs), .dropped(let outputs, _): recorded = outputs
                case .missing, .damaged: recorded = nil
                }
                if recorded != m.outputs { problem = "outputs.tsv does not match the manifest" }
            }
            if problem == nil, m.task.computedKey != key { problem = "manifest does not hash to its key" }
            if let problem {
                corrupt.append((key, problem))
                remove(key)
            } else {
                valid[key] = m
            }
        }
        // Downstream of what is gone: repeat until no entry depends on a missing one.
        var orphaned: [(String, String)] = []
        var changed = true
        while changed {
            changed = false
            for key in valid.keys.sorted() {
                guard let m = valid[key] else { continue }
                if let gone = m.task.inputs.first(where: { valid[$0.key]?.outputs != $0.outputs }) {
                    let label = gone.scope == .group ? gone.stage : "\(gone.stage) \(gone.scope.label)"
                    orphaned.append((key, "built from \(label) (\(gone.key.prefix(12))), whose entry is gone or differs"))
                    remove(key)
                    valid[key] = nil
                    changed = true
                }
            }
        }
        let memoReset = FileSystem.exists(cache.memoPath)
        FileSystem.remove(cache.memoPath)
        return VerifyReport(checked: keys.count, corrupt: corrupt, orphaned: orphaned, memoReset: memoReset)
    }

    private func remove(_ key: String) { cache.removeEntry(key) }
}
