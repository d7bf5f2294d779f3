import ArgumentParser
import Foundation
import PipelineEngine

/// Finds a cache from `--cache-dir` or from a spec (its `"cache"`, else ./cache next to it), with
/// the spec's `--set` overrides applied as for every other command.
struct CacheLocation: ParsableArguments {
    @Option(name: .customLong("cache-dir"), help: "The cache folder.")
    var cacheDir: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a spec value: path=value (JSON, else a string).", valueName: "path=value"))
    var overrides: [String] = []

    func resolve(specs: [String]) throws -> CacheStore {
        if let cacheDir { return CacheStore(root: URL(fileURLWithPath: cacheDir)) }
        guard let first = specs.first else {
            throw PipeError(.usage, "give --cache-dir or a study spec")
        }
        return CacheStore(root: try load(first).cacheDirectory)
    }

    /// Loads the spec at `path` with the overrides (and `--cache-dir`, when given).
    func load(_ path: String) throws -> StudySpec {
        try SpecLoader(registry: PipeCommand.registry).load(
            URL(fileURLWithPath: path), overrides: overrides, cacheDirectory: cacheDir.map { URL(fileURLWithPath: $0) })
    }
}
