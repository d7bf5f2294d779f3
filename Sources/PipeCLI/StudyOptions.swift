import ArgumentParser
import Foundation
import PipelineEngine

/// The options every study command shares: the spec, `--set` overrides and `--cache-dir`.
struct StudyOptions: ParsableArguments {
    @Argument(help: "The study spec (JSON).")
    var spec: String

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a spec value: path=value (JSON, else a string).", valueName: "path=value"))
    var overrides: [String] = []

    @Option(name: .customLong("cache-dir"), help: "Cache folder (default: the spec's \"cache\", else ./cache next to the spec).")
    var cacheDir: String?

    @Option(name: .customLong("outputs"), help: "Output folder (default: the spec's \"outputs\"): publish a sensitivity run elsewhere, sharing the cache.")
    var outputs: String?

    /// The spec loaded with the injected registry.
    func load() throws -> StudySpec {
        // `--outputs DIR` is `--set outputs=<DIR made absolute>`, checked like the spec's own.
        let outputOverride = outputs.map { "outputs=" + URL(fileURLWithPath: $0).standardizedFileURL.path }
        return try SpecLoader(registry: PipeCommand.registry).load(
            URL(fileURLWithPath: spec), overrides: overrides + (outputOverride.map { [$0] } ?? []),
            cacheDirectory: cacheDir.map { URL(fileURLWithPath: $0) })
    }

    /// Loads the spec and expands its task graph (hashing new or changed source files unless
    /// `hashing` is false).
    func loadGraph(hashing: Bool = true) throws -> (StudySpec, TaskGraph, CacheStore) {
        let spec = try load()
        // These commands do not take the cache lock, so they read the cache without changing it.
        let cache = CacheStore(root: spec.cacheDirectory, readOnly: true)
        let memo = hashing ? DigestMemo(path: cache.memoPath) : nil
        let graph = try TaskGraph(spec: spec, memo: memo)
        if let memo, FileSystem.exists(cache.root.path) { try? memo.save() }
        return (spec, graph, cache)
    }
}
