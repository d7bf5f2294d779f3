import ArgumentParser
import Foundation
import PipelineEngine

extension PipeCommand {
    /// `pipe run`: plan, then execute every task that is not cached, and publish outputs.
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a study: execute what is not cached, then link outputs into the output folder.")

        @OptionGroup var study: StudyOptions

        @Option(help: "Maximum concurrent tasks (default: number of cores; with --executor slurm, no limit).")
        var jobs: Int?

        @Option(help: "Threads for running tasks: the sum of their stages' threads stays within N (default: twice the cores); no task gets more threads than there are cores, or than N.")
        var cores: Int?

        @Option(help: "Memory budget for running tasks, e.g. 8G (default: 75% of RAM).")
        var memory: String?

        @Flag(help: "After a failure, keep running every task whose inputs are ready.")
        var keepGoing = false

        @Option(help: "Retry a failed task up to N times.")
        var retries: Int = 0

        @Flag(help: "Wait for the cache lock instead of failing when another run holds it.")
        var wait = false

        @Flag(help: "Print nothing but failures.")
        var quiet = false

        @Flag(help: "Print machine-readable events (JSON lines) on stdout.")
        var json = false

        @Option(help: "Where tasks execute: local (threads in this process), worker (a `pipe worker` process per task) or slurm (job arrays of `pipe worker`; settings in the spec's slurm block).")
        var executor: String = "local"

        func validate() throws {
            guard (jobs ?? 1) >= 1 else { throw ValidationError("--jobs must be at least 1") }
            guard (cores ?? 1) >= 1 else { throw ValidationError("--cores must be at least 1") }
            guard retries >= 0 else { throw ValidationError("--retries must be 0 or more") }
            if let memory, SizeParser.bytes(memory) == nil { throw ValidationError("--memory: expected a size from 1 byte to 1P, e.g. 8G or 512M; got '\(memory)'") }
            guard ["local", "worker", "slurm"].contains(executor) else { throw ValidationError("--executor must be local, worker or slurm") }
        }

        func run() async throws {
            let spec = try study.load()
            let cache = CacheStore(root: spec.cacheDirectory)
            let mode = ProgressPrinter.mode(quiet: quiet, json: json)
            if mode != .json { for n in spec.notes { ErrorReporting.printLine("note: \(n)") } }
            let lock = try await CacheLock.acquire(cache, wait: wait) { holder in
                if mode != .quiet && mode != .json {
                    ErrorReporting.printLine("waiting for the cache lock held by \(holder?.summary ?? "another process")...")
                }
            }
            defer { lock.release() }
            let onCluster = self.executor == "slurm"
            // On Slurm, jobs of a killed earlier run may still write their temporary folders: those
            // are cleaned once the executor knows which (below).
            if !onCluster { cache.cleanTemporary() }
            let memo = DigestMemo(path: cache.memoPath)
            let graph = try TaskGraph(spec: spec, memo: memo)
            try memo.save()

            var options = RunOptions()
            // On Slurm the cluster schedules: every ready task is submitted, whatever this machine has.
            if let jobs { options.jobs = jobs } else if onCluster { options.jobs = 1_000_000 }
            if onCluster { options.cores = Int(Int32.max) } else if let cores { options.cores = cores }
            options.threadsPerTask = min(options.threadsPerTask, options.cores)
            if onCluster { options.memoryBudget = UInt64.max / 2 }
            if let memory { options.memoryBudget = SizeParser.bytes(memory)! }
            options.keepGoing = keepGoing
            options.retries = retries
            let journal = try Journal(cache: cache)
            defer { journal.close() }
            let printer = ProgressPrinter(mode: mode, jobs: options.jobs)
            let observers: [any RunObserver] = [journal, printer]
            if let stale = lock.previousStaleHolder {
                for o in observers { o.handle(.lockTakenOver(stale)) }
            }
            let executor: any TaskExecutor
            var slurm: SlurmClient?
            let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            switch self.executor {
            case "worker":
                executor = WorkerProcessExecutor(cache: cache, executable: exe)
            case "slurm":
                let client = SlurmClient()
                slurm = client
                let cluster = try SlurmExecutor(cache: cache, executable: exe, settings: spec.slurm, study: CacheStore.studyIdentity(spec),
                                                runID: journal.runID, client: client) { event in for o in observers { o.handle(event) } }
                cache.cleanTemporary(keeping: cluster.adoptedKeys)
                executor = cluster
            default:
                executor = LocalExecutor(cache: cache, registry: PipeCommand.registry, cores: options.threadsPerTask)
            }
            let runner = Runner(graph: graph, cache: cache, executor: executor, options: options,
                                observers: observers, runID: journal.runID)
            let task = Task { try await runner.run() }
            let trap = SignalTrap { task.cancel() }
            defer { trap.cancel() }
            defer {
                if let slurm, !quiet {
                    let calls = slurm.calls
                    ErrorReporting.printLine("slurm: " + ["sbatch", "squeue", "scontrol", "scancel"].map { "\(calls[$0] ?? 0) \($0)" }.joined(separator: ", ") + " calls")
                }
            }
            let summary = try await task.value
            if !quiet && !json {
                ErrorReporting.printLine("\(summary.total) tasks: \(summary.executed) ran, \(summary.cached) cached"
                    + (summary.failed > 0 ? ", \(summary.failed) failed" : "")
                    + (summary.skipped > 0 ? ", \(summary.skipped) not run" : "")
                    + String(format: " in %.2f s; outputs in %@", summary.seconds, spec.outputDirectory.path))
            }
            if !json {
                for n in summary.notices {
                    ErrorReporting.printLine("\(n.stage)" + (n.scope == .group ? "" : " \(n.scope.label)") + ": \(n.text)")
                }
            }
            if !summary.failures.isEmpty {
                throw PipeError(.taskFailed, FailureReport.lines(summary.failures).joined(separator: "\n"))
            }
        }
    }
}
