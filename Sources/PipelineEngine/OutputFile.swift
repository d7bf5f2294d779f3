/// One output file of a task: its name, SHA-256 digest and size.
public struct OutputFile: Sendable, Equatable {
    public var name: String
    public var sha256: String
    public var size: Int64

    public init(name: String, sha256: String, size: Int64) {
        self.name = name; self.sha256 = sha256; self.size = size
    }

    /// JSON form `{"name", "sha256", "size"}`.
    public var json: JSONValue {
        .object(["name": .string(name), "sha256": .string(sha256), "size": .number(Double(size))])
    }

    /// Decodes ``json``.
    public init?(json: JSONValue) {
        guard let n = json["name"]?.stringValue, let d = json["sha256"]?.stringValue,
              let s = json["size"]?.exactInteger(Int64.self), s >= 0 else { return nil }
        self.init(name: n, sha256: d, size: s)
    }
}
