/// Computes task keys: SHA-256 over the ``CanonicalEncoder`` encoding of
/// `{format, kind, version, params, scope, sources, inputs}` where
/// - `sources` is `[[name, digest]]` sorted by name (content digests, never paths or times);
/// - `inputs` is `[[fromIndex, scope, [[outputName, digest]]]]` in (fromIndex, scope) order, using
///   upstream *output* digests (not upstream keys), which gives early cutoff.
///
/// A task's key depends only on its own scope and inputs, so a per-scan key does not change when
/// others join or leave the cohort.
public enum TaskKey {
    /// Version of the key encoding; part of every key. Bump to invalidate all caches deliberately.
    public static let formatVersion = 1

    /// The canonical material hashed for a task.
    public static func material(kind: String, version: Int, params: JSONValue, scope: Scope,
                                sources: [(name: String, digest: String)],
                                inputs: [(fromIndex: Int, scope: Scope, outputs: [OutputFile])]) -> JSONValue {
        .object([
            "format": .number(Double(formatVersion)),
            "kind": .string(kind),
            "version": .number(Double(version)),
            "params": params,
            "scope": scope.json,
            "sources": .array(sources.sorted { $0.name < $1.name }.map { .array([.string($0.name), .string($0.digest)]) }),
            "inputs": .array(inputs.map { input in
                .array([.number(Double(input.fromIndex)), input.scope.json,
                        .array(input.outputs.sorted { $0.name < $1.name }.map { .array([.string($0.name), .string($0.sha256)]) })])
            }),
        ])
    }

    /// The key (64 lowercase hex digits) of `material`.
    public static func digest(of material: JSONValue) -> String {
        var e = CanonicalEncoder()
        e.encode(.string("pipe.task-key"))
        e.encode(material)
        return FileSystem.hex(SHA256.hash(data: e.bytes))
    }

    /// The key of a task.
    public static func compute(kind: String, version: Int, params: JSONValue, scope: Scope,
                               sources: [(name: String, digest: String)],
                               inputs: [(fromIndex: Int, scope: Scope, outputs: [OutputFile])]) -> String {
        digest(of: material(kind: kind, version: version, params: params, scope: scope, sources: sources, inputs: inputs))
    }
}
