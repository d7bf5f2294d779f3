import PipelineEngine

/// The float32 samples x features matrix of a run, in memory of its own or in a mapped file.
///
/// A `clean` task loads and cleans a run straight into its mapped output file, and a
/// `connectivity` task maps that file to read it; neither copies the series (about 200 MB for a
/// 2 mm, 240-volume run) into a second buffer. It is a collection of its values (for tests and
/// small uses); the numeric code works on `withUnsafeBufferPointer`.
///
/// A class: a `LoadedScan` or `CleanedScan` holding it shares its values with its copies. Writes
/// belong to the task that made it (the loader, then cleaning, on one thread at a time); a
/// finished series file is read-only, and a read mapping is private to this process.
public final class SeriesBuffer: RandomAccessCollection, MutableCollection, @unchecked Sendable {
    private let base: UnsafeMutablePointer<Float>?
    /// The values in use: the first `count` of the storage.
    public private(set) var count: Int
    /// What keeps the storage alive: a mapped file, or nil for memory owned here.
    private let owner: MappedFile?

    /// `count` zeros in memory of its own.
    public init(zeros count: Int) {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(count, 1))
        p.initialize(repeating: 0, count: count)
        base = p
        self.count = count
        owner = nil
    }

    /// The float32 values of a mapped file (the file's first `count` · 4 bytes).
    public init(mapped file: MappedFile, count: Int) {
        precondition(count * MemoryLayout<Float>.size <= file.bytes.count, "\(file.path) holds fewer than \(count) float32 values")
        base = count == 0 ? nil : file.bytes.baseAddress!.bindMemory(to: Float.self, capacity: count)
        self.count = count
        owner = file
    }

    /// The mapped file holding the values, if any.
    public var mappedFile: MappedFile? { owner }

    deinit {
        if owner == nil { base?.deallocate() }
    }

    /// Keeps the first `count` values (after censoring removed volumes).
    public func truncate(to count: Int) {
        precondition(count >= 0 && count <= self.count)
        self.count = count
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(position: Int) -> Float {
        get {
            precondition(position >= 0 && position < count, "index \(position) out of 0..<\(count)")
            return base![position]
        }
        set {
            precondition(position >= 0 && position < count, "index \(position) out of 0..<\(count)")
            base![position] = newValue
        }
    }

    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try withExtendedLifetime(self) { try body(UnsafeBufferPointer(start: base, count: count)) }
    }

    public func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try withExtendedLifetime(self) { try body(UnsafeMutableBufferPointer(start: base, count: count)) }
    }
}
