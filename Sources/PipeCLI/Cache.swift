import ArgumentParser
import Foundation
import PipelineEngine

extension PipeCommand {
    /// `pipe cache ls|du|gc|verify`.
    struct Cache: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Inspect and maintain a cache.",
            subcommands: [List.self, Usage.self, Collect.self, Verify.self])

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "ls", abstract: "List cache entries.")
            @Argument(help: "A study spec (to find its cache).") var specs: [String] = []
            @OptionGroup var location: CacheLocation
            @Flag(help: "Print as JSON (sizes in bytes).") var json = false

            func run() async throws {
                let m = CacheMaintenance(cache: try location.resolve(specs: specs))
                let entries = m.list()
                if json {
                    print(JSONValue.array(entries.map {
                        .object(["key": .string($0.key), "stage": .string($0.stage), "scope": .string($0.scope),
                                 "bytes": .number(Double($0.bytes)), "started": .string($0.started)])
                    }).serialized(pretty: true))
                    return
                }
                var out = ""
                for e in entries { out += "\(e.key.prefix(16))  \(e.stage)  \(e.scope)  \(Plural.bytes(e.bytes))  \(e.started)\n" }
                FileHandle.standardOutput.write(Data(out.utf8))
            }
        }

        struct Usage: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "du", abstract: "Show disk usage of the cache.")
            @Argument(help: "A study spec (to find its cache).") var specs: [String] = []
            @OptionGroup var location: CacheLocation
            @Flag(help: "Print as JSON (sizes in bytes).") var json = false

            func run() async throws {
                let cache = try location.resolve(specs: specs)
                let usage = CacheMaintenance(cache: cache).usage()
                let total = usage.reduce(Int64(0)) { $0 &+ $1.bytes }
                let entries = cache.allKeys().count
                let dropped = CacheMaintenance(cache: cache).dropped()
                if json {
                    var o: [String: JSONValue] = ["total": .number(Double(total)), "entries": .number(Double(entries)),
                                                  "cache": .string(cache.root.path),
                                                  "dropped": .object(["entries": .number(Double(dropped.entries)), "bytes": .number(Double(dropped.bytes))])]
                    for u in usage { o[u.folder] = .object(["bytes": .number(Double(u.bytes)), "files": .number(Double(u.files))]) }
                    print(JSONValue.object(o).serialized(pretty: true))
                    return
                }
                var out = ""
                for u in usage {
                    out += u.folder.padding(toLength: 8, withPad: " ", startingAt: 0) + " "
                        + Plural.bytes(u.bytes).padding(toLength: 10, withPad: " ", startingAt: 0) + " in \(Plural.count(u.files, "file"))\n"
                }
                out += "total    \(Plural.bytes(total)); \(Plural.count(entries, "entry").replacingOccurrences(of: "entrys", with: "entries")) in \(cache.root.path)\n"
                if dropped.entries > 0 {
                    out += "saved    \(Plural.bytes(dropped.bytes)) by dropping the data of \(Plural.count(dropped.entries, "entry").replacingOccurrences(of: "entrys", with: "entries")) of keep: false stages\n"
                }
                FileHandle.standardOutput.write(Data(out.utf8))
            }
        }

        struct Collect: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "gc", abstract: "Remove every entry the given studies do not need.")
            @Argument(help: "The studies whose current results to keep.") var specs: [String]
            @OptionGroup var location: CacheLocation
            @Flag(help: "Wait for the cache lock.") var wait = false

            func validate() throws {
                if specs.isEmpty { throw ValidationError("give the studies whose results gc should keep") }
            }

            func run() async throws {
                let cache = try location.resolve(specs: specs)
                let lock = try await CacheLock.acquire(cache, wait: wait)
                defer { lock.release() }
                var keep = Set<String>()
                let memo = DigestMemo(path: cache.memoPath)
                for s in specs {
                    var spec = try location.load(s)
                    spec.cacheDirectory = cache.root
                    let graph = try TaskGraph(spec: spec, memo: memo)
                    for p in Planner(graph: graph, cache: cache).plan(explain: false) where p.status == .cached {
                        keep.insert(p.key!)
                    }
                }
                memo.pruneToUsed()
                try memo.save()
                let r = CacheMaintenance(cache: cache).collect(keeping: keep)
                print("kept \(keep.count) entries; removed \(r.removed) entries (\(r.bytes) B)")
            }
        }

        struct Verify: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Rehash every entry; remove those that do not match their manifest, and those built from them.",
                discussion: "Exit 0 when every entry is intact, 1 when entries were removed (they are listed).")
            @Argument(help: "Study specs (to find the cache, and to rebuild the source-digest memo).") var specs: [String] = []
            @OptionGroup var location: CacheLocation
            @Flag(help: "Wait for the cache lock.") var wait = false

            func run() async throws {
                let cache = try location.resolve(specs: specs)
                let lock = try await CacheLock.acquire(cache, wait: wait)
                defer { lock.release() }
                let r = CacheMaintenance(cache: cache).verify()
                for c in r.corrupt { print("removed corrupt entry \(c.key.prefix(16)): \(c.problem)") }
                for c in r.orphaned { print("removed entry \(c.key.prefix(16)): \(c.problem)") }
                if r.memoReset {
                    // Rebuild the source-digest memo by hashing the given studies' sources.
                    let memo = DigestMemo(path: cache.memoPath)
                    for s in specs {
                        var spec = try location.load(s)
                        spec.cacheDirectory = cache.root
                        _ = try TaskGraph(spec: spec, memo: memo)
                    }
                    try memo.save()
                    print(specs.isEmpty ? "reset the source-digest memo (the next plan rehashes sources)"
                                        : "rebuilt the source-digest memo from \(memo.count) source files")
                }
                let removed = r.corrupt.count + r.orphaned.count
                print("verified \(r.checked) entries: \(r.checked - removed) ok, \(r.corrupt.count) corrupt, \(r.orphaned.count) built from removed entries"
                      + (removed > 0 ? " (removed)" : ""))
                if removed > 0 { throw ExitCode(1) }
            }
        }
    }
}
