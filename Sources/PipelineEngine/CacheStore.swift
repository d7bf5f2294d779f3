import Crypto
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

    /// Creates a store rooted at `root` (not touching the disk).
    public init(root: URL) { self.root = root.standardizedFileURL }

    public var tasksPath: String { root.appendingPathComponent("tasks").path }
    public var tmpPath: String { root.appendingPathComponent("tmp").path }
    public var specsPath: String { root.appendingPathComponent("specs").path }
    public var logsPath: String { root.appendingPathComponent("logs").path }
    public var indexPath: String { root.appendingPathComponent("index").path }
    public var journalPath: String { root.appendingPathComponent("journal").path }
    public var lockPath: String { root.appendingPathComponent("lock").path }
    public var memoPath: String { root.appendingPathComponent("digests.tsv").path }

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

    /// The outputs of entry `key` if it exists (it has a manifest), read from the entry's compact
    /// `outputs.tsv`; `nil` otherwise. This is the planner's hot path: two small file operations and
    /// no JSON parsing. `pipe cache verify` checks `outputs.tsv` against the manifest.
    /// - Parameter tasks: an open handle on ``tasksPath``, to avoid full path walks (optional).
    public func entryOutputs(for key: String, tasks: DirectoryHandle? = nil) -> [OutputFile]? {
        if let tasks {
            guard tasks.exists(key + "/manifest.json"), let bytes = tasks.read(key + "/outputs.tsv") else { return nil }
            return Self.decodeOutputs(bytes)
        }
        let dir = entryPath(key)
        guard FileSystem.exists(dir + "/manifest.json"),
              let bytes = try? FileSystem.read(dir + "/outputs.tsv") else { return nil }
        return Self.decodeOutputs(bytes)
    }

    /// `sha256 TAB size TAB name` lines.
    static func encodeOutputs(_ outputs: [OutputFile]) -> String {
        outputs.map { "\($0.sha256)\t\($0.size)\t\($0.name)\n" }.joined()
    }

    static func decodeOutputs(_ bytes: [UInt8]) -> [OutputFile]? {
        var out: [OutputFile] = []
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            let f = line.split(separator: UInt8(ascii: "\t"), maxSplits: 2)
            guard f.count == 3, f[0].count == 64, let size = Int64(String(decoding: f[1], as: UTF8.self)) else { return nil }
            out.append(OutputFile(name: String(decoding: f[2], as: UTF8.self), sha256: String(decoding: f[0], as: UTF8.self), size: size))
        }
        return out
    }

    /// The complete entry of `key`: its manifest, provided the entry also has a valid
    /// `outputs.tsv` (what the planner reads). The single definition of "this entry exists" for
    /// executors and publishing.
    public func completeEntry(for key: String) -> Manifest? {
        guard let m = manifest(for: key), let outputs = entryOutputs(for: key), outputs == m.outputs else { return nil }
        return m
    }

    /// Persists a task description so another process can execute it (`pipe worker`).
    public func writeDescription(_ d: TaskDescription) throws {
        // Atomic (rename) but not fsynced: it is rewritten before every execution of the task.
        try FileSystem.writeAtomically(Array(d.json.serialized(pretty: true).utf8), to: descriptionPath(d.key), sync: false)
    }

    /// Reads a persisted task description.
    public func readDescription(_ key: String) throws -> TaskDescription {
        guard let bytes = try? FileSystem.read(descriptionPath(key)) else {
            throw PipeError(.cache, "no task description for key \(key) in \(root.path) (run `pipe run` or `pipe plan` first)")
        }
        guard let d = TaskDescription(json: try JSONValue.parse(bytes: bytes)), d.key == key else {
            throw PipeError(.cache, "corrupt task description \(descriptionPath(key))")
        }
        return d
    }

    /// Creates a fresh temporary entry folder (with an `out/` subfolder) inside the cache.
    public func makeTemporaryEntry(for key: String) throws -> String {
        let p = tmpPath + "/\(key).\(getpid()).\(UInt64.random(in: 0...UInt64.max))"
        try FileSystem.makeDirectory(p + "/out")
        return p
    }

    /// Removes every temporary folder. Call only while holding the lock, before any worker starts.
    public func cleanTemporary() {
        for name in FileSystem.list(tmpPath) { FileSystem.remove(tmpPath + "/" + name) }
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

    /// Replaces a study's per-stage index.
    public func writeIndex(study: String, stage: String, _ entries: [String: String]) throws {
        var text = ""
        for k in entries.keys.sorted() { text += "\(k)\t\(entries[k]!)\n" }
        try FileSystem.makeDirectory(indexPath + "/" + study)
        try FileSystem.writeAtomically(Array(text.utf8), to: indexFile(study: study, stage: stage))
    }
}
