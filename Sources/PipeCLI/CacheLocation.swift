import ArgumentParser
import Foundation
import PipelineEngine

/// Finds a cache from `--cache-dir` or from a spec (its `"cache"`, else ./cache next to it).
struct CacheLocation: ParsableArguments {
    @Option(name: .customLong("cache-dir"), help: "The cache folder.")
    var cacheDir: String?

    func resolve(specs: [String]) throws -> CacheStore {
        if let cacheDir { return CacheStore(root: URL(fileURLWithPath: cacheDir)) }
        guard let first = specs.first else {
            throw PipeError(.usage, "give --cache-dir or a study spec")
        }
        return CacheStore(root: try SpecLoader(registry: PipeCommand.registry).load(URL(fileURLWithPath: first)).cacheDirectory)
    }
}
