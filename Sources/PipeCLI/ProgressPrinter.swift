import Foundation
import PipelineEngine

/// Shows a run's progress: on a terminal, one live line per stage (done, cached, running, failed,
/// ETA); otherwise plain log lines; `--json` writes every event as a JSON line on stdout;
/// `--quiet` shows nothing but the final report.
final class ProgressPrinter: RunObserver, @unchecked Sendable {
    enum Mode { case live, plain, json, quiet }

    private struct StageLine {
        var name: String
        var total = 0, done = 0, cached = 0, running = 0, failed = 0, skipped = 0
        var firstStart: Date?
        var busySeconds = 0.0
    }

    private let mode: Mode
    private let jobs: Int
    private let lock = NSLock()
    private var stages: [StageLine] = []
    /// The tasks served from the cache, so that one recomputed afterwards (its data dropped,
    /// `keep: false`, and needed again) is counted as run, not as both.
    private var cachedTasks: Set<String> = []
    private var drawnLines = 0
    private var lastDraw = Date.distantPast

    init(mode: Mode, jobs: Int) {
        self.mode = mode
        self.jobs = jobs
    }

    static func mode(quiet: Bool, json: Bool) -> Mode {
        if json { return .json }
        if quiet { return .quiet }
        return isatty(2) != 0 ? .live : .plain
    }

    func handle(_ event: RunEvent) {
        lock.lock()
        defer { lock.unlock() }
        switch mode {
        case .quiet: return
        case .json:
            FileHandle.standardOutput.write(Data((event.json(time: Date().timeIntervalSince1970).serialized() + "\n").utf8))
            return
        case .live, .plain: break
        }
        if case .warning(let message) = event {
            // Printed in both modes; the live display redraws below it.
            err("warning: \(message)")
            drawnLines = 0
            return
        }
        update(event)
        if mode == .plain { plain(event) } else { draw(force: { if case .runFinished = event { return true }; return false }()) }
    }

    private func index(_ stage: String) -> Int? { stages.firstIndex { $0.name == stage } }

    private func update(_ event: RunEvent) {
        switch event {
        case .runStarted(_, let s): stages = s.map { var l = StageLine(name: $0.name); l.total = $0.tasks; return l }
        case .cached(let st, let sc, _):
            if let i = index(st) { stages[i].cached += 1; cachedTasks.insert(st + " " + sc.label) }
        case .started(let st, let sc, _, _):
            guard let i = index(st) else { break }
            if cachedTasks.remove(st + " " + sc.label) != nil { stages[i].cached -= 1 }
            stages[i].running += 1
            if stages[i].firstStart == nil { stages[i].firstStart = Date() }
        case .finished(let st, _, _, let secs, _, _):
            if let i = index(st) { stages[i].running -= 1; stages[i].done += 1; stages[i].busySeconds += secs }
        case .failed(let st, _, _, _, _, _, let retry):
            if let i = index(st) { stages[i].running -= 1; if !retry { stages[i].failed += 1 } }
        case .skipped(let st, _, _): if let i = index(st) { stages[i].skipped += 1 }
        default: break
        }
    }

    private func err(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

    private func plain(_ event: RunEvent) {
        switch event {
        case .runStarted(let id, let s): err("run \(id): \(s.reduce(0) { $0 + $1.tasks }) tasks in \(s.count) stages")
        case .lockTakenOver(let h): err("took over a stale lock left by \(h.summary)")
        case .started(let st, let sc, _, let a): err("start  \(st) \(sc.label)" + (a > 1 ? " (attempt \(a))" : ""))
        case .finished(let st, let sc, _, let secs, _, _): err("done   \(st) \(sc.label) (\(String(format: "%.2f", secs)) s)")
        case .failed(let st, let sc, _, let e, _, _, let retry): err("FAILED \(st) \(sc.label): \(e)" + (retry ? " (will retry)" : ""))
        case .skipped(let st, let sc, let r): err("skip   \(st) \(sc.label): \(r)")
        case .submitted(let st, let sc, _, let job, let cpus, let mib, let minutes, _, let re):
            err("submit \(st) \(sc.label): job \(job), \(cpus) CPU, \(mib) MiB, \(minutes) min" + (re > 0 ? " (resubmission \(re))" : ""))
        case .attached(let st, let sc, _, let job): err("attach \(st) \(sc.label): job \(job), submitted by an earlier run, is still queued or running")
        case .jobEnded(let st, let sc, _, let job, let state, let action) where state != "COMPLETED":
            err("job    \(st) \(sc.label): \(job) ended \(state): \(action)")
        case .runFinished:
            for s in stages where s.cached > 0 { err("cached \(s.name): \(s.cached) of \(s.total) tasks") }
        default: break
        }
    }

    private func line(_ s: StageLine) -> String {
        var parts = ["\(s.done + s.cached)/\(s.total) done"]
        if s.cached > 0 { parts.append("\(s.cached) cached") }
        if s.running > 0 { parts.append("\(s.running) running") }
        if s.failed > 0 { parts.append("\(s.failed) failed") }
        if s.skipped > 0 { parts.append("\(s.skipped) skipped") }
        let remaining = s.total - s.done - s.cached - s.failed - s.skipped
        if s.done > 0, remaining > 0 {
            let eta = s.busySeconds / Double(s.done) * Double(remaining) / Double(max(1, jobs))
            parts.append("ETA \(Int(eta.rounded(.up))) s")
        }
        return String(s.name.prefix(24)).padding(toLength: 24, withPad: " ", startingAt: 0) + " " + parts.joined(separator: ", ")
    }

    private func draw(force: Bool) {
        let now = Date()
        guard force || now.timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = now
        var out = ""
        if drawnLines > 0 { out += "\u{1B}[\(drawnLines)F" }
        for s in stages { out += "\u{1B}[2K" + line(s) + "\n" }
        drawnLines = stages.count
        FileHandle.standardError.write(Data(out.utf8))
    }
}
