/// Everything needed to execute one task without the spec: persisted as `cache/specs/<key>.json`
/// before the task runs (so `pipe worker` can run it from the cache alone), and embedded in the
/// task's manifest (so `pipe plan` can say what changed since).
public struct TaskDescription: Sendable, Equatable {
    /// A source file: its name for the kind, its absolute path, its content digest, and the file
    /// identity the digest was taken under (not part of the key: it lets the task check cheaply
    /// that it reads the bytes that were hashed).
    public struct Source: Sendable, Equatable {
        public var name: String
        public var path: String
        public var digest: String
        public var identity: FileSystem.FileIdentity?
        public init(name: String, path: String, digest: String, identity: FileSystem.FileIdentity? = nil) {
            self.name = name; self.path = path; self.digest = digest; self.identity = identity
        }
    }

    /// An upstream task's outputs: where it sits in `from`, its scope, its key, its output digests.
    public struct Input: Sendable, Equatable {
        public var fromIndex: Int
        public var stage: String
        public var scope: Scope
        public var key: String
        public var outputs: [OutputFile]
        public init(fromIndex: Int, stage: String, scope: Scope, key: String, outputs: [OutputFile]) {
            self.fromIndex = fromIndex; self.stage = stage; self.scope = scope; self.key = key; self.outputs = outputs
        }
    }

    /// The task key (see ``TaskKey``).
    public var key: String
    /// The stage name (informational; not in the key).
    public var stage: String
    /// The kind name.
    public var kind: String
    /// The kind's implementation version.
    public var kindVersion: Int
    /// Canonical parameters.
    public var params: JSONValue
    /// The task's scope.
    public var scope: Scope
    /// Source files, sorted by name.
    public var sources: [Source]
    /// Upstream inputs, ordered by (`fromIndex`, scope label).
    public var inputs: [Input]
    /// Memory estimate in bytes.
    public var memory: UInt64
    /// CPU budget: the threads its kernels may use (not part of the key: outputs do not depend on it).
    public var threads: Int
    /// The outputs its kind drops (``StageKind/dropsOutput(named:)``) will be dropped as soon as
    /// their readers are done: a `keep: false` stage that shares no key with another stage
    /// (``TaskGraph/dropsPromptly``). Executors on the run's machine publish them without fsync
    /// (``CacheStore/publish(temporary:task:started:seconds:peakRSS:tool:cpuSeconds:knownDigests:unsynced:)``).
    /// Not part of the key.
    public var transient: Bool

    public init(key: String, stage: String, kind: String, kindVersion: Int, params: JSONValue, scope: Scope,
                sources: [Source], inputs: [Input], memory: UInt64, threads: Int = 1, transient: Bool = false) {
        self.key = key; self.stage = stage; self.kind = kind; self.kindVersion = kindVersion
        self.params = params; self.scope = scope; self.sources = sources; self.inputs = inputs; self.memory = memory
        self.threads = max(1, threads)
        self.transient = transient
    }

    /// The key this description hashes to (see ``TaskKey``); equal to ``key`` unless it was edited.
    public var computedKey: String {
        TaskKey.compute(kind: kind, version: kindVersion, params: params, scope: scope,
                        sources: sources.map { ($0.name, $0.digest) },
                        inputs: inputs.map { ($0.fromIndex, $0.scope, $0.outputs) })
    }
}
