import Foundation
import XCTest

/// Finds processes through /proc and waits for them, for tests that kill runs and their workers.
enum ProcessWatch {
    /// Live (not zombie) processes whose command line has every one of `words` as an argument
    /// or inside one (a zombie's command line is empty, so it never matches).
    static func pids(withArguments words: [String]) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let raw = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !raw.isEmpty else { return false }
            let args = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return words.allSatisfy { w in args.contains { $0.contains(w) } } && state(of: pid) != "Z"
        }
    }

    /// The one-letter state of `pid` ("R", "S", "T", "Z", …), or nil when it is gone.
    static func state(of pid: Int32) -> String? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].split(separator: " ").first.map(String.init)
    }

    /// A field of /proc/<pid>/status in kB ("VmSize", …).
    static func statusKB(_ pid: Int32, _ field: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            return Int(line.dropFirst(field.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "")
        }
        return nil
    }

    /// Whether `signal` is pending for the whole process `pid` (its ShdPnd mask in /proc).
    static func hasPendingSignal(_ pid: Int32, _ signal: Int32) -> Bool {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("ShdPnd:") }),
              let mask = UInt64(line.dropFirst("ShdPnd:".count).trimmingCharacters(in: .whitespaces), radix: 16)
        else { return false }
        return mask & (1 << UInt64(signal - 1)) != 0
    }

    /// Polls `condition` every 10 ms until it holds or `seconds` pass; returns whether it held.
    static func poll(seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }

    /// Waits up to `seconds` for `process` to exit; SIGKILLs it (and fails) when it does not.
    @discardableResult
    static func waitForExit(_ process: Process, seconds: Double, _ what: String,
                            file: StaticString = #filePath, line: UInt = #line) -> Bool {
        if poll(seconds: seconds, { !process.isRunning }) {
            process.waitUntilExit()
            return true
        }
        XCTFail("\(what): still running after \(seconds) s", file: file, line: line)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return false
    }
}
