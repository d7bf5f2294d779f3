import CThreadBudget
import Foundation

/// Everything a running task may use: its parameters, scope, inputs, sources, an output folder,
/// a log, and cancellation. Kinds open their source files by the paths in ``sources`` (each was
/// checked against the digest in the task's key just before the task started).
public final class TaskContext: Sendable {
    /// The stage's canonical parameters.
    public let params: JSONValue
    /// The task's scope.
    public let scope: Scope
    /// Upstream outputs, ordered by (`from` position, scope label).
    public let inputs: [TaskInput]
    /// Source files by name (absolute).
    public let sources: [String: URL]
    /// Where to write outputs: flat files, names chosen by the kind.
    public let outputDirectory: URL
    private let cancellation: CancellationFlag
    private let logHandle: Locked<FileHandle?>
    private let digests = Locked<[String: OutputDigest]>([:])
    /// Whether a finished output starts going to disk at once (Linux `sync_file_range`). Not when
    /// the outputs are published without fsync (``TaskRunner/unsyncedBoot``): data dropped soon
    /// after never reaches the disk, and the rest goes in the background, after the task.
    private let startsWriteback: Bool
    /// Dropped files a large mapped output may reuse (``SpareFiles``); nil off the run's machine.
    private let spares: SpareFiles?

    /// Creates a context; used by executors.
    public init(params: JSONValue, scope: Scope, inputs: [TaskInput], sources: [String: URL],
                outputDirectory: URL, logFile: URL?, cancellation: CancellationFlag,
                startsWriteback: Bool = true, spares: SpareFiles? = nil) {
        self.startsWriteback = startsWriteback
        self.spares = spares
        self.params = params
        self.scope = scope
        self.inputs = inputs
        self.sources = sources
        self.outputDirectory = outputDirectory
        self.cancellation = cancellation
        var handle: FileHandle?
        if let logFile {
            _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
            handle = try? FileHandle(forWritingTo: logFile)
            _ = try? handle?.seekToEnd()
        }
        self.logHandle = Locked(handle)
    }

    deinit { logHandle.withLock { try? $0?.close() } }

    /// Whether the run was cancelled; long task bodies should poll this.
    public var isCancelled: Bool { cancellation.isCancelled }

    /// Throws ``PipeError`` `.interrupted` if the run was cancelled.
    public func checkCancellation() throws {
        if isCancelled { throw PipeError(.interrupted, "cancelled") }
    }

    /// Appends a line to the task's log file in the cache.
    public func log(_ line: String) {
        logHandle.withLock { $0?.write(Data((line + "\n").utf8)) }
    }

    /// Reads a whole source file named in ``sources``.
    /// - Throws: ``PipeError`` `.io` when there is no such source or it cannot be read.
    public func readSource(_ name: String) throws -> [UInt8] {
        guard let url = sources[name] else { throw PipeError(.io, "no source named '\(name)'") }
        return try FileSystem.read(url.path)
    }

    /// Writes an output file named `name` (no path separators).
    public func writeOutput(_ name: String, _ bytes: [UInt8]) throws {
        try checkOutputName(name)
        try FileSystem.write(bytes, to: outputDirectory.appendingPathComponent(name).path, sync: false)
    }

    /// Writes a large output from memory, hashing the same bytes on a second thread while they
    /// are written, so that publishing does not read the file back to hash it (the digest is used
    /// only if the file's size, inode and modification time are still those seen after writing).
    public func writeOutput(_ name: String, contentsOf bytes: UnsafeRawBufferPointer) throws {
        try checkOutputName(name)
        let path = outputDirectory.appendingPathComponent(name).path
        let shared = UnsafeSendableBytes(bytes: bytes)
        let written = Locked<Result<Void, any Error>>(.success(()))
        let digest = Locked("")
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            if i == 0 {
                written.withLock { $0 = Result { try FileSystem.write(shared.bytes, to: path, sync: false) } }
            } else {
                digest.withLock { $0 = FileSystem.hex(SHA256.hash(data: shared.bytes)) }
            }
        }
        try written.withLock { try $0.get() }
        if startsWriteback { _ = pipe_start_writeback(path) }  // see `finishMappedOutput`
        if let identity = try FileSystem.identity(of: path) {
            digests.withLock { $0[name] = OutputDigest(sha256: digest.withLock { $0 }, identity: identity) }
        }
    }

    /// Creates an output of `byteCount` bytes (zeros) mapped into memory, for a task that fills a
    /// large output in place (no second buffer, no write copy); it may reuse the pages of a file
    /// dropped earlier in the run (``SpareFiles``). Fill `bytes`, then call
    /// ``finishMappedOutput(_:length:)``; the memory stays readable until the object is released.
    public func mapOutput(_ name: String, byteCount: Int) throws -> MappedFile {
        try checkOutputName(name)
        return try MappedFile(creating: outputDirectory.appendingPathComponent(name).path, byteCount: byteCount, spares: spares)
    }

    /// Ends a mapped output at its first `length` bytes and records their digest, so publishing
    /// does not read the file back. The mapping is read-only afterwards.
    public func finishMappedOutput(_ file: MappedFile, length: Int) throws {
        let name = (file.path as NSString).lastPathComponent
        guard file.path == outputDirectory.appendingPathComponent(name).path else {
            throw PipeError(.io, "\(file.path) is not an output of this task (\(outputDirectory.path))")
        }
        let identity = try file.finish(length: length)
        // The bytes are final: the disk writes them while they are hashed, so the fsync when the
        // task is published has less to wait for.
        if startsWriteback { _ = pipe_start_writeback(file.path) }
        let digest = FileSystem.hex(SHA256.hash(data: UnsafeRawBufferPointer(file.bytes)))
        if let identity {
            digests.withLock { $0[name] = OutputDigest(sha256: digest, identity: identity) }
        }
    }

    /// Removes an output the task made but will not publish (a mapped output it did not fill).
    public func discardOutput(_ name: String) throws {
        try checkOutputName(name)
        FileSystem.remove(outputDirectory.appendingPathComponent(name).path)
        digests.withLock { $0[name] = nil }
    }

    /// Digests of outputs written with `writeOutput(_:contentsOf:)` or `mapOutput`, by name.
    public var outputDigests: [String: OutputDigest] { digests.withLock { $0 } }

    private func checkOutputName(_ name: String) throws {
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw PipeError(.io, "invalid output name '\(name)'")
        }
    }
}

/// The SHA-256 of an output computed from the bytes written, and the file as seen right after.
public struct OutputDigest: Sendable {
    public var sha256: String
    public var identity: FileSystem.FileIdentity
}

/// Bytes read concurrently by the writing and the hashing thread of `writeOutput(_:contentsOf:)`.
private struct UnsafeSendableBytes: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer
}
