/// One user-named stage of a study, validated against its kind.
public struct StageSpec: Sendable {
    /// The user's name for the stage (a key of `"stages"`).
    public var name: String
    /// The stage's kind.
    public var kind: any StageKind
    /// Upstream stage names, in the spec's order.
    public var from: [String]
    /// The kind's canonical parameters (defaults filled in).
    public var params: JSONValue
    /// Whether the stage's outputs are linked into the output folder.
    public var publish: Bool
    /// A per-task memory estimate override in bytes.
    public var memory: UInt64?
    /// The per-task CPU budget (`threads`), overriding the kind's default.
    public var threads: Int?
    /// Whether its entries keep their data once every task that reads them is cached (`keep`;
    /// false: the data files are dropped, the manifest and digests stay).
    public var keep = true
    /// Where the stage is defined.
    public var location: SourceLocation
    /// The kind's typed parameters (see ``TypedStageKind``), when it has them.
    public var typedParameters: (any Sendable)?
    /// The stage's object in the spec, with locations, for plan-time checks to point at.
    public var node: JSONNode?

    public init(name: String, kind: any StageKind, from: [String], params: JSONValue, publish: Bool,
                memory: UInt64?, threads: Int? = nil, location: SourceLocation, typedParameters: (any Sendable)? = nil, node: JSONNode? = nil) {
        self.name = name; self.kind = kind; self.from = from; self.params = params; self.publish = publish
        self.memory = memory; self.threads = threads; self.location = location; self.typedParameters = typedParameters; self.node = node
    }

    /// The location of the value at `path` inside the stage (`"seeds[1].label"`, `"session"`),
    /// or of the deepest part of it that exists, or of the stage.
    public func location(of path: String) -> SourceLocation {
        guard var node else { return location }
        for part in path.split(separator: ".") {
            var name = Substring(part)
            var indices: [Int] = []
            while let open = name.lastIndex(of: "["), name.hasSuffix("]"), let i = Int(name[name.index(after: open)..<name.index(before: name.endIndex)]) {
                indices.insert(i, at: 0)
                name = name[..<open]
            }
            if !name.isEmpty {
                guard let m = node.member(String(name)) else { return node.location }
                node = m.value
            }
            for i in indices {
                guard case .array(let items) = node.kind, i < items.count else { return node.location }
                node = items[i]
            }
        }
        return node.location
    }
}
