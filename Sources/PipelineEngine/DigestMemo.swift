import Foundation

/// Source-file content digests, memoised by (device, inode, size, mtime_ns, ctime_ns).
///
/// A file is rehashed only when one of those changes; a touched file is rehashed (and, if its bytes
/// are the same, yields the same digest, so nothing reruns). Stored as `digests.tsv` in the cache,
/// one line per file: `dev TAB inode TAB size TAB mtime_ns TAB ctime_ns TAB sha256 TAB check`,
/// where `check` is the FNV-1a 64 checksum of the rest of the line in hex. A line whose checksum
/// does not match (a damaged or hand-edited memo), or of an older format, is ignored, so its file
/// is rehashed. `pipe cache verify` resets the memo. Not thread-safe: used by the planner on one
/// thread (``hashAhead(_:workers:)`` hashes on several, and records their digests on its own).
public final class DigestMemo: @unchecked Sendable {
    private var entries: [FileSystem.FileIdentity: String] = [:]
    private var used = Set<FileSystem.FileIdentity>()
    private var dirty = false
    private let path: String

    /// Loads the memo at `path` (empty if missing or unreadable).
    public init(path: String) {
        self.path = path
        guard let bytes = try? FileSystem.read(path) else { return }
        func number(_ s: ArraySlice<UInt8>) -> Int64? {
            guard !s.isEmpty, s.count <= 20 else { return nil }
            var v: Int64 = 0
            var negative = false
            for (i, b) in s.enumerated() {
                if i == 0 && b == UInt8(ascii: "-") { negative = true; continue }
                guard b >= 0x30 && b <= 0x39 else { return nil }
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int64(b - 0x30))
                if o1 || o2 { return nil }
                v = a
            }
            return negative ? -v : v
        }
        entries.reserveCapacity(bytes.count / 110)
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            let f = line.split(separator: UInt8(ascii: "\t"))
            guard f.count == 7, f[6].count == 16,
                  Self.checksum(line[line.startIndex..<f[5].endIndex]) == String(decoding: f[6], as: UTF8.self),
                  let dev = UInt64(String(decoding: f[0], as: UTF8.self)),
                  let ino = UInt64(String(decoding: f[1], as: UTF8.self)), let size = number(f[2]),
                  let m = number(f[3]), let c = number(f[4]), f[5].count == 64 else { continue }
            entries[.init(device: dev, inode: ino, size: size, mtimeNs: m, ctimeNs: c)]
                = String(decoding: f[5], as: UTF8.self)
        }
    }

    /// The content digest of the file at `path`, from the memo when its identity is unchanged.
    /// - Throws: ``PipeError`` if the file is missing or unreadable.
    public func digest(ofFile path: String) throws -> String {
        try lookup(ofFile: path).digest
    }

    /// The content digest of the file at `path` and the identity it was taken under.
    /// A file that changed while it was hashed is not memoised; its identity is the one seen
    /// before hashing, so a task that reads it later rehashes it and fails if the bytes differ.
    /// - Throws: ``PipeError`` if the file is missing or unreadable.
    public func lookup(ofFile path: String) throws -> (digest: String, identity: FileSystem.FileIdentity) {
        guard let id = try FileSystem.identity(of: path) else {
            throw PipeError(.io, "no such file: \(path)")
        }
        return try lookup(ofFile: path, identity: id)
    }

    /// As ``lookup(ofFile:)``, with the identity the caller just took of the file (no second stat).
    public func lookup(ofFile path: String, identity id: FileSystem.FileIdentity) throws -> (digest: String, identity: FileSystem.FileIdentity) {
        used.insert(id)
        if let d = entries[id] { return (d, id) }
        let d = try FileSystem.sha256(ofFile: path, counted: true)
        if try FileSystem.identity(of: path) == id {
            entries[id] = d
            dirty = true
        }
        return (d, id)
    }

    /// Hashes the files of `files` that the memo lacks on up to `workers` threads at once, so that
    /// the ``lookup(ofFile:identity:)`` calls that follow, in the planner's order, find them
    /// memoised: a study's first plan reads its sources at the speed of all the cores, not one.
    /// - Each identity is hashed once (a hard link shares its file's identity), the largest files
    ///   first, dealt in turn to the threads.
    /// - A file that cannot be read, or changed while it was hashed, is left out: its lookup hashes
    ///   it again and reports the error where the planner reports it now.
    public func hashAhead(_ files: [(path: String, identity: FileSystem.FileIdentity)],
                          workers: Int = ProcessInfo.processInfo.activeProcessorCount) {
        var seen = Set<FileSystem.FileIdentity>()
        let todo = files.filter { entries[$0.identity] == nil && seen.insert($0.identity).inserted }
            .sorted { $0.identity.size > $1.identity.size }
        guard todo.count > 1, workers > 1 else { return }
        let digests = parallelMap(todo.count, workers: workers, block: 1) { i -> String? in
            guard let d = try? FileSystem.sha256(ofFile: todo[i].path, counted: true),
                  (try? FileSystem.identity(of: todo[i].path)) == todo[i].identity else { return nil }
            return d
        }
        for (file, digest) in zip(todo, digests) {
            guard let digest else { continue }
            entries[file.identity] = digest
            dirty = true
        }
    }

    /// Whether the memo holds a digest for a file of this identity.
    public func contains(_ identity: FileSystem.FileIdentity) -> Bool { entries[identity] != nil }

    /// Number of memoised files.
    public var count: Int { entries.count }

    /// Forgets every file not looked up since this memo was loaded (used by `pipe cache gc`, after
    /// planning every study that shares the cache).
    public func pruneToUsed() {
        let before = entries.count
        entries = entries.filter { used.contains($0.key) }
        if entries.count != before { dirty = true }
    }

    /// Writes the memo back if it changed (atomically).
    public func save() throws {
        guard dirty else { return }
        var text = ""
        text.reserveCapacity(entries.count * 120)
        for (k, v) in entries {
            let body = "\(k.device)\t\(k.inode)\t\(k.size)\t\(k.mtimeNs)\t\(k.ctimeNs)\t\(v)"
            text += body + "\t" + Self.checksum(Array(body.utf8)[...]) + "\n"
        }
        try FileSystem.writeAtomically(Array(text.utf8), to: path)
        dirty = false
    }

    /// FNV-1a 64 of `bytes`, as 16 lowercase hex digits.
    static func checksum(_ bytes: ArraySlice<UInt8>) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
