import Foundation

/// Starts POSIX threads with an explicit stack size, and says so when it cannot.
///
/// Foundation's `Thread.start()` ignores a failed `pthread_create` (EAGAIN under `ulimit -u`, or
/// ENOMEM/EAGAIN when an 8 MiB stack does not fit under `ulimit -v`): the body never runs, and
/// whoever waits for it (a continuation, a semaphore) waits forever. Every thread the engine and
/// the stage kinds start goes through here instead, so that failure is a ``PipeError``:
/// `cannot start N threads: <strerror>`.
public enum TaskThread {
    /// The stack size of task threads: 8 MiB, the main thread's usual limit, which stage kinds
    /// (deep recursion, large stack arrays) may rely on.
    public static let defaultStackSize = 8 << 20

    /// Starts `body` on a new detached thread.
    /// - Parameters:
    ///   - name: the thread's name (Linux keeps 15 bytes), shown by `top -H` and debuggers.
    ///   - stackSize: bytes of stack (rounded up by the system to its page size and minimum).
    /// - Throws: ``PipeError`` `.io`, "cannot start 1 thread: <strerror>", when the thread cannot
    ///   be created; `body` then never runs.
    public static func start(name: String, stackSize: Int = defaultStackSize,
                             _ body: @escaping @Sendable () -> Void) throws(PipeError) {
        if case .failure(let f) = create(name: name, stackSize: stackSize, detached: true, body) {
            throw cannotStart(1, f.code)
        }
    }

    /// Starts `count` threads running `body(0)`, …, `body(count - 1)`, and returns their group,
    /// to ``Group/join()``.
    ///
    /// All or none: when thread k cannot be created, `unwind` is called (it must make the k threads
    /// already started return soon, e.g. by failing the queue they drain), those threads are
    /// joined, and the error is thrown.
    /// - Throws: ``PipeError`` `.io`, "cannot start `count` threads: <strerror>".
    public static func startGroup(count: Int, name: String, stackSize: Int = defaultStackSize,
                                  _ body: @escaping @Sendable (Int) -> Void,
                                  unwind: () -> Void) throws(PipeError) -> Group {
        var started: [pthread_t] = []
        started.reserveCapacity(count)
        for i in 0..<count {
            switch create(name: name, stackSize: stackSize, detached: false, { body(i) }) {
            case .success(let t):
                started.append(t)
            case .failure(let f):
                unwind()
                Group(threads: started).join()
                throw cannotStart(count, f.code)
            }
        }
        return Group(threads: started)
    }

    /// Joinable threads started together by ``startGroup(count:name:stackSize:_:unwind:)``.
    public struct Group {
        fileprivate let threads: [pthread_t]

        /// Waits until every thread of the group has returned.
        public func join() {
            for t in threads { pthread_join(t, nil) }
        }
    }

    /// The error for `count` threads of which one could not be created with `errno` `code`.
    static func cannotStart(_ count: Int, _ code: Int32) -> PipeError {
        PipeError(.io, "cannot start \(count) thread\(count == 1 ? "" : "s"): \(String(cString: strerror(code)))")
    }

    /// What a new thread runs: the body and the name to give the thread.
    private final class Start {
        let name: String
        let body: () -> Void
        init(name: String, body: @escaping () -> Void) {
            self.name = name
            self.body = body
        }
    }

    /// `pthread_create` with an explicit stack size; the error is its return code.
    private static func create(name: String, stackSize: Int, detached: Bool,
                               _ body: @escaping @Sendable () -> Void) -> Result<pthread_t, ThreadCreateFailure> {
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        defer { pthread_attr_destroy(&attr) }
        let page = max(Int(sysconf(Int32(_SC_PAGESIZE))), 4096)
        let size = max((stackSize + page - 1) / page * page, Int(PTHREAD_STACK_MIN))
        if pthread_attr_setstacksize(&attr, size) != 0 { pthread_attr_setstacksize(&attr, defaultStackSize) }
        pthread_attr_setdetachstate(&attr, Int32(detached ? PTHREAD_CREATE_DETACHED : PTHREAD_CREATE_JOINABLE))
        let start = Unmanaged.passRetained(Start(name: name, body: body)).toOpaque()
        #if canImport(Glibc) || canImport(Musl)
        var thread = pthread_t()
        #else
        var thread: pthread_t?
        #endif
        let code = pthread_create(&thread, &attr, { raw in
            let start = Unmanaged<Start>.fromOpaque(raw!).takeRetainedValue()
            Thread.current.name = start.name
            start.body()
            return nil
        }, start)
        guard code == 0 else {
            Unmanaged<Start>.fromOpaque(start).release()
            return .failure(ThreadCreateFailure(code: code))
        }
        #if canImport(Glibc) || canImport(Musl)
        return .success(thread)
        #else
        return .success(thread!)
        #endif
    }

    /// The return code of a failed `pthread_create`.
    private struct ThreadCreateFailure: Error {
        let code: Int32
    }
}
