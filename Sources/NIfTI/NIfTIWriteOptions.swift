/// How `NIfTIFile.write` stores an image.
public struct NIfTIWriteOptions: Sendable {
    /// The on-disk voxel type; float32 by default.
    public var datatype: NIfTIDatatype
    /// zlib level for `.gz` paths: 1 (fast) by default.
    public var compressionLevel: Int32
    /// zlib's run-length strategy (`Z_RLE`: repeats of the previous byte only, no search for
    /// longer matches) instead of the default one; false by default. For float maps that are zero
    /// outside the brain and noise-like inside, where longer matches are rare: a 2 mm seed map or
    /// mean EPI compresses twice as fast, and 2–4 % smaller, than with level 1's default strategy.
    /// Not for piecewise-constant maps (cluster p values: a value repeats 4 bytes apart, which it
    /// cannot match): 3x larger there.
    public var runLength: Bool
    /// Byte order of header and data; little-endian by default.
    public var byteOrder: ByteOrder
    /// NIfTI-1 by default; NIfTI-2 for dimensions above 32767.
    public var version: NIfTIHeader.Version
    /// For integer datatypes: the slope and intercept to store; nil chooses them from the data
    /// (none if every value is an integer in range, else the full range of the type).
    public var scaling: (slope: Double, intercept: Double)?
    /// fsync the file before renaming it into place (true by default), so that after a crash the
    /// path holds the whole file or nothing. False for a file that something else makes durable:
    /// a task's output, which the engine fsyncs when it publishes the task.
    public var sync: Bool

    public init(
        datatype: NIfTIDatatype = .float32, compressionLevel: Int32 = 1, runLength: Bool = false, byteOrder: ByteOrder = .little,
        version: NIfTIHeader.Version = .nifti1, scaling: (slope: Double, intercept: Double)? = nil, sync: Bool = true
    ) {
        self.datatype = datatype
        self.compressionLevel = compressionLevel
        self.runLength = runLength
        self.byteOrder = byteOrder
        self.version = version
        self.scaling = scaling
        self.sync = sync
    }
}
