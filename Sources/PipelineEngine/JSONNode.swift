/// A JSON value with the source location of every value and key, as parsed from a spec.
///
/// Object members keep their file order, which makes stage order deterministic.
public struct JSONNode: Sendable {
    /// One member of an object: its key, the key's location and the value.
    public struct Member: Sendable {
        public var key: String
        public var keyLocation: SourceLocation
        public var value: JSONNode
        public init(key: String, keyLocation: SourceLocation, value: JSONNode) {
            self.key = key
            self.keyLocation = keyLocation
            self.value = value
        }
    }

    /// The value's payload.
    public indirect enum Kind: Sendable {
        case null
        case bool(Bool)
        case number(Double)
        case string(String)
        case array([JSONNode])
        case object([Member])
    }

    /// The payload.
    public var kind: Kind
    /// Where the value starts.
    public var location: SourceLocation

    /// Creates a node.
    public init(_ kind: Kind, at location: SourceLocation) {
        self.kind = kind
        self.location = location
    }

    /// The value without locations.
    public var plain: JSONValue {
        switch kind {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .number(let n): return .number(n)
        case .string(let s): return .string(s)
        case .array(let a): return .array(a.map(\.plain))
        case .object(let m):
            var d: [String: JSONValue] = [:]
            d.reserveCapacity(m.count)
            for member in m { d[member.key] = member.value.plain }
            return .object(d)
        }
    }

    /// Object members, or `nil` if not an object.
    public var members: [Member]? {
        if case .object(let m) = kind { return m }
        return nil
    }

    /// The member named `key`, if this is an object holding it.
    public func member(_ key: String) -> Member? {
        members?.first { $0.key == key }
    }

    /// A short description of the value for messages: its type and, for scalars, its value.
    public var shortDescription: String {
        switch kind {
        case .null: return "null"
        case .bool(let b): return "bool \(b)"
        case .number(let n): return "number \(JSONValue.format(number: n))"
        case .string(let s): return "string \"\(s)\""
        case .array(let a): return "array of \(a.count)"
        case .object: return "object"
        }
    }

    /// Builds a node from a plain value, giving every part the same location.
    public init(plain: JSONValue, at location: SourceLocation) {
        self.location = location
        switch plain {
        case .null: kind = .null
        case .bool(let b): kind = .bool(b)
        case .number(let n): kind = .number(n)
        case .string(let s): kind = .string(s)
        case .array(let a): kind = .array(a.map { JSONNode(plain: $0, at: location) })
        case .object(let o):
            kind = .object(o.keys.sorted().map {
                Member(key: $0, keyLocation: location, value: JSONNode(plain: o[$0]!, at: location))
            })
        }
    }
}
