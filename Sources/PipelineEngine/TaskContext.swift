import Foundation

/// Everything a running task may use: its parameters, scope, inputs, sources, an output folder,
/// a log, and cancellation. Kinds read sources only through ``readSource(_:)`` so the engine can
/// count input bytes.
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

    /// Creates a context; used by executors.
    public init(params: JSONValue, scope: Scope, inputs: [TaskInput], sources: [String: URL],
                outputDirectory: URL, logFile: URL?, cancellation: CancellationFlag) {
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

    /// Reads a whole source file, counting its bytes in ``IOCounters/sourceBytesRead``.
    public func readSource(_ name: String) throws -> [UInt8] {
        guard let url = sources[name] else { throw PipeError(.io, "no source named '\(name)'") }
        let bytes = try FileSystem.read(url.path)
        IOCounters.addSourceRead(bytes.count)
        return bytes
    }

    /// Writes an output file named `name` (no path separators).
    public func writeOutput(_ name: String, _ bytes: [UInt8]) throws {
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw PipeError(.io, "invalid output name '\(name)'")
        }
        try FileSystem.write(bytes, to: outputDirectory.appendingPathComponent(name).path, sync: false)
    }
}
