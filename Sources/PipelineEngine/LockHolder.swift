import Foundation

/// Who holds a cache lock: recorded as JSON in the lock file for messages and stale-lock checks.
public struct LockHolder: Sendable, Equatable {
    public var pid: Int32
    public var host: String
    public var bootID: String
    public var started: String

    /// The current process.
    public static func current() -> LockHolder {
        LockHolder(pid: getpid(), host: ProcessInfo.processInfo.hostName, bootID: Self.bootID(),
                   started: Timestamp.iso8601())
    }

    /// This machine's boot id (`/proc/sys/kernel/random/boot_id`), or "" where there is none.
    public static func bootID() -> String {
        guard let b = try? FileSystem.read("/proc/sys/kernel/random/boot_id") else { return "" }
        return String(decoding: b, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public var json: JSONValue {
        .object(["pid": .number(Double(pid)), "host": .string(host), "boot_id": .string(bootID), "started": .string(started)])
    }

    public init(pid: Int32, host: String, bootID: String, started: String) {
        self.pid = pid; self.host = host; self.bootID = bootID; self.started = started
    }

    public init?(json: JSONValue) {
        guard let pid = json["pid"]?.exactInteger(Int32.self), pid > 0 else { return nil }
        self.init(pid: pid, host: json["host"]?.stringValue ?? "?", bootID: json["boot_id"]?.stringValue ?? "",
                  started: json["started"]?.stringValue ?? "?")
    }

    /// Whether this holder is certainly gone: same host and boot, and no such process.
    public var isDeadOnThisMachine: Bool {
        host == ProcessInfo.processInfo.hostName && bootID == Self.bootID() && !FileSystem.processExists(pid)
    }

    public var summary: String { "pid \(pid) on \(host) since \(started)" }
}
