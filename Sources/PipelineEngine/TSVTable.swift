import Foundation
#if canImport(Glibc)
import Glibc
private let posixRead = Glibc.read
#elseif canImport(Darwin)
import Darwin
private let posixRead = Darwin.read
#endif

/// A tab-separated table as raw text: a header line, then rows of cells, each with its line number.
///
/// Every table the pipeline reads (a cohort's `participants.tsv`, fMRIPrep confounds, atlas
/// label tables) goes through this one reader, so that files written on Windows or by
/// spreadsheet programs read as the same table:
/// - lines end in LF, CRLF or a lone CR (split on bytes: in Swift `"\r\n"` is one `Character`,
///   so splitting a `String` on `"\n"` would never split a CRLF file);
/// - a leading UTF-8 byte order mark (EF BB BF) is dropped;
/// - empty lines at the end of the file are ignored; empty lines elsewhere are skipped unless
///   `keepingBlankLines` is set (then they are rows with one empty cell);
/// - cells are split on every tab and kept as they are (no trimming, no quoting, no `n/a`
///   handling: what a cell means is the caller's business). Rows may be ragged; callers check
///   their length.
///
/// Invalid UTF-8 decodes with replacement characters. Complexity: O(n) in the file size.
public struct TSVTable: Sendable, Equatable {
    /// One line of the table: its 1-based line number in the file and its cells.
    public struct Row: Sendable, Equatable {
        /// The 1-based line number in the file (blank lines counted), for messages.
        public var line: Int
        /// The line split on tabs; a line without a tab is one cell.
        public var cells: [String]

        /// Creates a row.
        public init(line: Int, cells: [String]) {
            self.line = line
            self.cells = cells
        }
    }

    /// Every kept line, header first.
    public var lines: [Row]

    /// The first kept line's cells (the column names); empty for an empty file.
    public var header: [String] { lines.first?.cells ?? [] }
    /// The line number of the header, 0 for an empty file.
    public var headerLine: Int { lines.first?.line ?? 0 }
    /// The lines after the header.
    public var rows: ArraySlice<Row> { lines.dropFirst() }
    /// Whether the file holds no line (no header either).
    public var isEmpty: Bool { lines.isEmpty }

    /// Parses a table from the bytes of a file.
    /// - Parameters:
    ///   - bytes: the file's content.
    ///   - keepingBlankLines: keep empty lines before the last non-empty one as rows of one empty
    ///     cell (a confounds file must not have them; a participants table may).
    public init<Bytes: Collection>(bytes: Bytes, keepingBlankLines: Bool = false) where Bytes.Element == UInt8 {
        var data = Array(bytes)
        if data.starts(with: [0xEF, 0xBB, 0xBF]) { data.removeFirst(3) }
        var lines: [Row] = []
        var blanks: [Row] = []   // kept blank lines, added once a non-blank line follows them
        var number = 0
        var start = 0, i = 0
        func endLine(at end: Int) {
            number += 1
            if end == start {
                if keepingBlankLines { blanks.append(Row(line: number, cells: [""])) }
                return
            }
            let cells = data[start..<end].split(separator: UInt8(ascii: "\t"), omittingEmptySubsequences: false)
                .map { String(decoding: $0, as: UTF8.self) }
            lines += blanks
            blanks = []
            lines.append(Row(line: number, cells: cells))
        }
        while i < data.count {
            switch data[i] {
            case UInt8(ascii: "\n"):
                endLine(at: i)
                i += 1
                start = i
            case UInt8(ascii: "\r"):
                endLine(at: i)
                i += (i + 1 < data.count && data[i + 1] == UInt8(ascii: "\n")) ? 2 : 1
                start = i
            default:
                i += 1
            }
        }
        if start < data.count { endLine(at: data.count) }
        self.lines = lines
    }

    /// Reads and parses the table at `path` (see ``init(bytes:keepingBlankLines:)``).
    /// - Throws: ``ReadError`` naming the file and the system's reason (e.g. "No such file or directory").
    /// A FIFO, a device or a directory is refused by stat(2) before it is opened (a FIFO would
    /// block the read forever, /dev/zero never end).
    public static func read(_ path: String, keepingBlankLines: Bool = false) throws -> TSVTable {
        switch FileSystem.kind(of: path) {
        case .notRegular(let what): throw ReadError(path: path, reason: "it is \(what), not a regular file")
        case .symlinkLoop: throw ReadError(path: path, reason: "a symlink loop")
        default: break
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ReadError(path: path, errno: errno) }
        defer { close(fd) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { posixRead(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ReadError(path: path, errno: errno)
            }
            if n == 0 { break }
            out.append(contentsOf: buffer[0..<n])
        }
        if let line = Self.firstLineNotUTF8(out) {
            throw ReadError(path: path, reason: "line \(line) is not UTF-8 text (a Latin-1 or Windows export?); save the file as UTF-8")
        }
        return TSVTable(bytes: out, keepingBlankLines: keepingBlankLines)
    }

    /// The number of the first line that is not valid UTF-8, if one is not: such a file read as
    /// UTF-8 would turn `ü` into U+FFFD in values that are matched, published and cited.
    static func firstLineNotUTF8(_ bytes: [UInt8]) -> Int? {
        guard bytes.contains(where: { $0 >= 0x80 }) else { return nil }
        var number = 0
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            number += 1
            if line.contains(where: { $0 >= 0x80 }) && String(validating: line, as: UTF8.self) == nil { return number }
        }
        return nil
    }

    /// A table file that cannot be opened or read.
    public struct ReadError: Error, Sendable, Equatable, CustomStringConvertible {
        /// The file.
        public var path: String
        /// The system's reason, as strerror(3) words it ("Permission denied").
        public var reason: String

        /// Creates the error for a failed system call's `errno`.
        public init(path: String, errno code: Int32) {
            self.path = path
            reason = String(cString: strerror(code))
        }

        /// Creates the error with a reason in words.
        public init(path: String, reason: String) {
            self.path = path
            self.reason = reason
        }

        public var description: String { "cannot read \(path): \(reason)" }
    }
}
