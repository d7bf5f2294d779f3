import Foundation

/// Appends every run event as a JSON line to `cache/journal/<run-id>.jsonl`.
///
/// Lines are buffered and flushed on task start/finish/failure and at the end, so a killed run's
/// journal holds everything up to its last task transition. Run ids sort by start time.
public final class Journal: RunObserver, @unchecked Sendable {
    /// The run id: `yyyyMMdd'T'HHmmss'Z'-<pid>`.
    public let runID: String
    /// The journal file.
    public let path: String
    private let state: Locked<(handle: FileHandle?, buffer: String)>

    /// Creates the journal file of a new run in `cache`.
    public init(cache: CacheStore) throws {
        runID = "\(Timestamp.compact())-\(getpid())"
        path = cache.journalPath + "/\(runID).jsonl"
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        guard let h = FileHandle(forWritingAtPath: path) else {
            throw PipeError(.io, "cannot create journal \(path)")
        }
        state = Locked((h, ""))
    }

    public func handle(_ event: RunEvent) {
        let line = event.jsonLine(time: Date().timeIntervalSince1970)
        state.withLock { s in
            s.buffer += line
            switch event {
            case .planned, .cached: if s.buffer.utf8.count > 1 << 16 { flush(&s) }
            default: flush(&s)
            }
        }
    }

    private func flush(_ s: inout (handle: FileHandle?, buffer: String)) {
        guard !s.buffer.isEmpty else { return }
        s.handle?.write(Data(s.buffer.utf8))
        s.buffer = ""
    }

    /// Flushes and closes the file.
    public func close() {
        state.withLock { s in
            flush(&s)
            try? s.handle?.close()
            s.handle = nil
        }
    }
}
