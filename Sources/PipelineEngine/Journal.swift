import Foundation

/// Appends every run event as a JSON line to `cache/journal/<run-id>.jsonl`.
///
/// Lines are encoded and written by a serial queue of the journal's own, so a burst of per-task
/// `planned` and `cached` events (100,000 of each on a no-op rerun of a biobank-sized study) does
/// not hold up the run. They are buffered; every other event (a task's start, finish or failure,
/// the run's end) waits until it and everything before it is written, so a killed run's journal
/// holds everything up to its last task transition. Run ids sort by start time.
public final class Journal: RunObserver, @unchecked Sendable {
    /// The run id: `yyyyMMdd'T'HHmmss'Z'-<pid>`.
    public let runID: String
    /// The journal file.
    public let path: String
    private let queue = DispatchQueue(label: "pipe.journal")
    /// Touched only on `queue`.
    private var handle: FileHandle?
    private var buffer = ""

    /// Creates the journal file of a new run in `cache`.
    public init(cache: CacheStore) throws {
        runID = "\(Timestamp.compact())-\(getpid())"
        path = cache.journalPath + "/\(runID).jsonl"
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        guard let h = FileHandle(forWritingAtPath: path) else {
            throw PipeError(.io, "cannot create journal \(path)")
        }
        handle = h
    }

    public func handle(_ event: RunEvent) {
        let time = Date().timeIntervalSince1970
        switch event {
        case .planned, .cached:
            queue.async { [self] in
                buffer += event.jsonLine(time: time)
                if buffer.utf8.count > 1 << 16 { flush() }
            }
        default:
            queue.sync {
                buffer += event.jsonLine(time: time)
                flush()
            }
        }
    }

    /// Writes the buffer; on `queue` only.
    private func flush() {
        guard !buffer.isEmpty else { return }
        handle?.write(Data(buffer.utf8))
        buffer = ""
    }

    /// Flushes and closes the file, once every event handed in is written.
    public func close() {
        queue.sync {
            flush()
            try? handle?.close()
            handle = nil
        }
    }
}
