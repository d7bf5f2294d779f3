/// The stage kinds a binary knows, by name. Injected into the engine; the engine defines none.
public struct StageRegistry: Sendable {
    private var kinds: [String: any StageKind] = [:]

    /// Creates a registry holding `kinds`.
    public init(_ kinds: [any StageKind] = []) {
        for k in kinds { register(k) }
    }

    /// Adds (or replaces) a kind.
    public mutating func register(_ kind: any StageKind) {
        kinds[kind.name] = kind
    }

    /// The kind named `name`.
    public func kind(named name: String) -> (any StageKind)? { kinds[name] }

    /// All kind names, sorted.
    public var names: [String] { kinds.keys.sorted() }
}
