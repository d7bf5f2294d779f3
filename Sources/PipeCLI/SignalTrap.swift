import Foundation
import PipelineEngine

/// Turns SIGINT/SIGTERM into one call of `handler` (the graceful cancel), and makes sure the signal
/// ends the process even when the cancel does not: a second signal (unless `secondSignalExits` is
/// false), or ``grace`` seconds after the first without the process having ended, exits at once
/// with 130 ("interrupted", as the graceful path) for either signal.
///
/// Nothing here needs Dispatch or a new thread once a signal arrives, so a process that can no longer
/// create threads still stops: the signal handlers only count, arm `alarm(grace)` and write one byte
/// to a pipe, and a watcher thread started up front reads it and calls `handler`. If that thread
/// cannot be started, the first signal exits at once.
final class SignalTrap: Sendable {
    /// Seconds between the first signal and the forced exit.
    static let grace: UInt32 = 10

    /// Installs the handlers and starts the watcher thread.
    /// - Parameters:
    ///   - secondSignalExits: whether a second signal exits at once. `pipe worker` says no: the
    ///     parent-death signal comes once for every thread of the dying run, and a worker that
    ///     exits at once leaves its temporary entry behind; ``grace`` still bounds it.
    ///   - handler: called once, on the watcher thread, at the first signal.
    init(secondSignalExits: Bool = true, _ handler: @escaping @Sendable () -> Void) {
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) == 0 {
            for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            let readEnd = fds[0]
            do {
                try TaskThread.start(name: "pipe-signals", stackSize: 256 << 10) {
                    var byte: UInt8 = 0
                    while true {
                        let n = read(readEnd, &byte, 1)
                        if n == 1 { break }
                        if n == 0 || (n < 0 && errno != EINTR) { return }
                    }
                    if !trapCancelled { handler() }
                }
                wakeFD = fds[1]
            } catch {
                close(fds[0])
                close(fds[1])
            }
        }
        signalsSeen = 0
        trapCancelled = false
        graceSeconds = SignalTrap.grace
        exitOnSecondSignal = secondSignalExits
        install(SIGALRM, onAlarm)
        install(SIGINT, onSignal)
        install(SIGTERM, onSignal)
    }

    /// Stops calling the handler; SIGINT and SIGTERM get their default action (end the process).
    /// An exit already armed by a signal stays armed.
    func cancel() {
        trapCancelled = true
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}

// State shared with the signal handlers: plain words, set before the handlers are installed.
nonisolated(unsafe) private var wakeFD: Int32 = -1
nonisolated(unsafe) private var signalsSeen = 0
nonisolated(unsafe) private var trapCancelled = false
nonisolated(unsafe) private var graceSeconds: UInt32 = 10
nonisolated(unsafe) private var exitOnSecondSignal = true

/// Installs `action` for `sig`, restarting interrupted system calls.
private func install(_ sig: Int32, _ action: @escaping @convention(c) (Int32) -> Void) {
    var a = sigaction()
    #if os(Linux)
    a.__sigaction_handler.sa_handler = action
    #else
    a.__sigaction_u.__sa_handler = action
    #endif
    a.sa_flags = Int32(SA_RESTART)
    sigemptyset(&a.sa_mask)
    sigaction(sig, &a, nil)
}

/// SIGINT/SIGTERM: the first wakes the watcher and arms the forced exit; a second exits (or is
/// ignored, see `exitOnSecondSignal`).
private func onSignal(_ sig: Int32) {
    signalsSeen += 1
    if wakeFD < 0 { forcedExit() }
    if signalsSeen > 1 {
        if exitOnSecondSignal { forcedExit() }
        return
    }
    alarm(graceSeconds)
    var byte: UInt8 = 1
    _ = write(wakeFD, &byte, 1)
}

/// SIGALRM: the graceful cancel took longer than ``SignalTrap/grace``.
private func onAlarm(_ sig: Int32) { forcedExit() }

/// Says so on stderr and ends the process with 130, calling only async-signal-safe functions.
private func forcedExit() -> Never {
    let message: StaticString = "pipe: interrupted: stopped without waiting for running tasks; rerun to resume\n"
    _ = write(2, message.utf8Start, message.utf8CodeUnitCount)
    _exit(130)
}
