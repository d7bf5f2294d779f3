import Foundation

/// Appends every run event as a JSON line to `cache/journal/<run-id>.jsonl`.
///
/// Lines are encoded and written by a serial queue of the journal's own, so a burst of per-task
/// `planned` and `cached` events (100,000 of each on a no-op rerun of a biobank-sized study) does
/// not hold up the run: they are handed over 1024 at a time. They are buffered; every other event (a task's start, finish or failure,
/// the run's end) waits until it and everything before it is written, so a killed run's journal
/// holds everything up to its last task transition. Run ids sort by start time.
public final class Journal: RunObserver, @unchecked Sendable {
    /// The run id: `yyyyMMdd'T'HHmmss.ffffff'Z'-<pid>` (see ``runID(at:pid:)``).
    public let runID: String
    /// The journal file.
    public let path: String
    private let queue = DispatchQueue(label: "pipe.journal")
    /// Per-task events not yet handed to `queue`, with their times (handed over 1024 at a time).
    private let pending = Locked<[(RunEvent, Double)]>([])
    /// Touched only on `queue`.
    private var handle: FileHandle?
    private var buffer = ""

    /// Creates the journal file of a new run in `cache`.
    public init(cache: CacheStore) throws {
        runID = Self.runID(at: Date(), pid: getpid())
        path = cache.journalPath + "/\(runID).jsonl"
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        guard let h = FileHandle(forWritingAtPath: path) else {
            throw PipeError(.io, "cannot create journal \(path)")
        }
        handle = h
    }

    /// The id of a run started at `date` by process `pid`. Ids sort in start order: `pipe status`
    /// and Slurm recovery take the last name as the newest run. The time is to the microsecond,
    /// since runs of one cache (kept apart by its lock) can start within one second, and the pid
    /// alone would sort them by its digits ("100000" before "99999").
    public static func runID(at date: Date, pid: Int32) -> String {
        "\(Timestamp.compact(date))-\(pid)"
    }

    public func handle(_ event: RunEvent) {
        let time = Date().timeIntervalSince1970
        // Handed to the queue under the lock, so lines keep the order the events came in.
        pending.withLock { p in
            switch event {
            case .planned, .cached:
                p.append((event, time))
                guard p.count >= 1024 else { return }
                let batch = p
                p.removeAll(keepingCapacity: true)
                queue.async { [self] in append(batch) }
            default:
                let batch = p + [(event, time)]
                p.removeAll(keepingCapacity: true)
                queue.sync {
                    append(batch)
                    flush()
                }
            }
        }
    }

    /// Encodes `events` into the buffer, writing it out past 64 KiB; on `queue` only.
    private func append(_ events: [(RunEvent, Double)]) {
        for (event, time) in events {
            buffer += event.jsonLine(time: time)
            if buffer.utf8.count > 1 << 16 { flush() }
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
        pending.withLock { p in
            let batch = p
            p.removeAll()
            queue.sync {
                append(batch)
                flush()
                try? handle?.close()
                handle = nil
            }
        }
    }
}
