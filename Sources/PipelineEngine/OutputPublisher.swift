import Foundation

/// Links finished outputs from the cache into the study's output folder: `out/<stage>/<file>`.
///
/// Hard links (copies across file systems); each link replaces its destination atomically, and a
/// destination already linked to the same cache file is left alone, so publishing a no-op run
/// costs one stat per file. Files that the stage no longer produces are removed when the whole
/// stage completed. Outputs are never recomputed to be published.
public struct OutputPublisher: Sendable {
    public let cache: CacheStore
    public let outputDirectory: URL

    public init(cache: CacheStore, outputDirectory: URL) {
        self.cache = cache
        self.outputDirectory = outputDirectory
    }

    /// Publishes `entries` (key and manifest per task) of `stage`; prunes stray files when `complete`.
    public func publish(stage: String, entries: [(key: String, outputs: [OutputFile])], complete: Bool) throws {
        let dir = outputDirectory.appendingPathComponent(stage).path
        if !FileSystem.exists(dir) { try FileSystem.makeDirectory(dir) }
        var expected = Set<String>()
        let destination = DirectoryHandle(path: dir)
        let tasks = DirectoryHandle(path: cache.tasksPath)
        for e in entries {
            for o in e.outputs {
                guard expected.insert(o.name).inserted else {
                    throw PipeError(.io, "stage \(stage): two tasks produce an output named '\(o.name)'; a kind must give each scope its own file names")
                }
                let src = cache.outputPath(e.key, o.name)
                let dst = dir + "/" + o.name
                if let a = tasks?.inode(e.key + "/out/" + o.name), let b = destination?.inode(o.name), a == b { continue }
                try FileSystem.linkOrCopy(src, to: dst)
            }
        }
        if complete {
            for name in FileSystem.list(dir) where !expected.contains(name) { FileSystem.remove(dir + "/" + name) }
        }
    }
}
