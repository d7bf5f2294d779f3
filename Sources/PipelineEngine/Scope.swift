/// Where a task applies: one scan (subject, session?, run?), one subject, or the whole group.
public enum Scope: Sendable, Hashable, Comparable, CustomStringConvertible {
    case scan(subject: String, session: String?, run: String?)
    case subject(String)
    case group

    /// The BIDS-like label used in file names and messages: `sub-01_ses-1_run-2`, `sub-01`, `group`.
    public var label: String {
        switch self {
        case .scan(let s, let ses, let run):
            var l = "sub-\(s)"
            if let ses { l += "_ses-\(ses)" }
            if let run { l += "_run-\(run)" }
            return l
        case .subject(let s): return "sub-\(s)"
        case .group: return "group"
        }
    }

    public var description: String { label }

    /// The subject label, if the scope has one.
    public var subject: String? {
        switch self {
        case .scan(let s, _, _): return s
        case .subject(let s): return s
        case .group: return nil
        }
    }

    /// The session label, if any.
    public var session: String? {
        if case .scan(_, let ses, _) = self { return ses }
        return nil
    }

    /// The run label, if any.
    public var run: String? {
        if case .scan(_, _, let run) = self { return run }
        return nil
    }

    /// The canonical JSON form hashed into task keys and stored in manifests.
    public var json: JSONValue {
        switch self {
        case .scan(let s, let ses, let run):
            return .object([
                "level": .string("scan"), "subject": .string(s),
                "session": ses.map { .string($0) } ?? .null, "run": run.map { .string($0) } ?? .null,
            ])
        case .subject(let s):
            return .object(["level": .string("subject"), "subject": .string(s)])
        case .group:
            return .object(["level": .string("group")])
        }
    }

    /// Decodes ``json``.
    public init?(json: JSONValue) {
        switch json["level"]?.stringValue {
        case "scan":
            guard let s = json["subject"]?.stringValue else { return nil }
            self = .scan(subject: s, session: json["session"]?.stringValue, run: json["run"]?.stringValue)
        case "subject":
            guard let s = json["subject"]?.stringValue else { return nil }
            self = .subject(s)
        case "group":
            self = .group
        default:
            return nil
        }
    }

    /// Orders by label, so that task order never depends on table or completion order.
    public static func < (a: Scope, b: Scope) -> Bool { a.label < b.label }
}
