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
    /// Where the stage is defined.
    public var location: SourceLocation
}
