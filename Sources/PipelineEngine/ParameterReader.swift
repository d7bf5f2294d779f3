/// Reads and checks a stage's parameters for its kind, reporting problems with location and path.
///
/// A kind calls the typed accessors for every parameter it accepts; the engine then calls
/// ``finish()``, which rejects keys the kind never asked for (with a did-you-mean) and returns the
/// canonical parameters: every accepted key with its value or default.
public final class ParameterReader: @unchecked Sendable {
    private let members: [JSONNode.Member]
    private let stageLocation: SourceLocation
    private let path: String
    private let diagnostics: SpecDiagnostics
    private let reserved: [String]
    private var accepted: [String: JSONValue] = [:]
    private var known: [String] = []
    /// The stage's `from` list, when reading a spec (nil when reading canonical parameters).
    private let upstream: [String]?

    /// A reader of canonical parameters (a task description's), for reading them back into the
    /// kind's typed value at run time. They were checked when the spec was read.
    public convenience init(canonical: JSONValue) {
        let location = SourceLocation(file: "(canonical parameters)", line: 0, column: 0)
        let node = JSONNode(plain: canonical, at: location)
        self.init(members: node.members ?? [], stageLocation: location, path: "params",
                  diagnostics: SpecDiagnostics(), reserved: [])
    }

    /// Creates a reader over the stage object's members that are not reserved engine keys.
    public init(members: [JSONNode.Member], stageLocation: SourceLocation, path: String,
                diagnostics: SpecDiagnostics, reserved: [String], upstream: [String]? = nil) {
        self.upstream = upstream
        self.members = members
        self.stageLocation = stageLocation
        self.path = path
        self.diagnostics = diagnostics
        self.reserved = reserved
    }

    /// The names of the stage's upstream stages (its `from`, in order), for a kind that names its
    /// inputs in what it writes (the report's section titles). Asking records them in the
    /// canonical parameters under `from`, so that renaming an upstream stage changes the task key.
    public func upstreamStages() -> [String] {
        if let upstream {
            accepted["from"] = .array(upstream.map { .string($0) })
            return upstream
        }
        return strings("from", default: [])
    }

    private func lookup(_ key: String) -> JSONNode.Member? {
        known.append(key)
        return members.first { $0.key == key }
    }

    /// Reports a problem with parameter `key` (at its value's location when present).
    ///
    /// `key` may name a part of a structured parameter, `seeds[1].radius`: the problem is then
    /// reported at the deepest part the spec has (the radius, else the second seed, else `seeds`).
    public func report(_ key: String, _ message: String) {
        diagnostics.report(location(of: key), "\(path).\(key)", message)
    }

    /// Checks that a number found inside a structured parameter (see ``value(_:)``) lies in
    /// `range`, reporting "expected a number in a...b, got x" at `key` (as ``report(_:_:)`` does)
    /// when it does not. A kind calls this for every number it will convert or compute with, so
    /// that 1e300 is a spec error rather than a trap at run time.
    /// - Returns: whether the number is in range.
    @discardableResult
    public func check(_ key: String, _ n: Double, in range: ClosedRange<Double>) -> Bool {
        if range.contains(n) { return true }
        report(key, Self.outOfRange(n, range))
        return false
    }

    /// "expected a number in a...b, got x".
    static func outOfRange(_ n: Double, _ range: ClosedRange<Double>) -> String {
        "expected a number in \(JSONValue.format(number: range.lowerBound))...\(JSONValue.format(number: range.upperBound)), got \(JSONValue.format(number: n))"
    }

    /// The location of `key` (`name`, then any `[index]` and `.name` parts): of its deepest part
    /// present in the spec, else the stage's.
    private func location(of key: String) -> SourceLocation {
        var parts: [String] = []
        var current = ""
        for c in key {
            switch c {
            case ".", "[":
                if !current.isEmpty { parts.append(current) }
                current = c == "[" ? "[" : ""
            case "]":
                parts.append(current + "]")
                current = ""
            default:
                current.append(c)
            }
        }
        if !current.isEmpty { parts.append(current) }
        guard let first = parts.first, var node = members.first(where: { $0.key == first })?.value else { return stageLocation }
        for part in parts.dropFirst() {
            if part.hasPrefix("["), part.hasSuffix("]"), let i = Int(part.dropFirst().dropLast()) {
                guard case .array(let items) = node.kind, items.indices.contains(i) else { break }
                node = items[i]
            } else {
                guard let m = node.member(part) else { break }
                node = m.value
            }
        }
        return node.location
    }

    /// A number parameter; `default` nil means required. Checks `range` when given.
    @discardableResult
    public func number(_ key: String, default def: Double? = nil, range: ClosedRange<Double>? = nil) -> Double {
        guard let m = lookup(key) else {
            if let def { accepted[key] = .number(def); return def }
            diagnostics.report(stageLocation, "\(path).\(key)", "missing required number")
            return 0
        }
        guard case .number(let n) = m.value.kind else {
            diagnostics.report(m.value.location, "\(path).\(key)", "expected a number, got \(m.value.shortDescription)")
            return def ?? 0
        }
        if let range, !range.contains(n) {
            diagnostics.report(m.value.location, "\(path).\(key)", Self.outOfRange(n, range))
        }
        accepted[key] = .number(n)
        return n
    }

    /// An integer parameter.
    @discardableResult
    public func integer(_ key: String, default def: Int? = nil, range: ClosedRange<Int>? = nil) -> Int {
        guard let m = lookup(key) else {
            if let def { accepted[key] = .number(Double(def)); return def }
            diagnostics.report(stageLocation, "\(path).\(key)", "missing required integer")
            return 0
        }
        guard case .number(let n) = m.value.kind, n.rounded() == n, abs(n) < 1e15 || range != nil else {
            diagnostics.report(m.value.location, "\(path).\(key)", "expected an integer, got \(m.value.shortDescription)")
            return def ?? 0
        }
        // Compared as doubles: Int(1e300) would trap.
        if let range, !(n >= Double(range.lowerBound) && n <= Double(range.upperBound)) {
            diagnostics.report(m.value.location, "\(path).\(key)",
                               "expected an integer in \(range.lowerBound)...\(range.upperBound), got \(JSONValue.format(number: n))")
        }
        accepted[key] = .number(n)
        return abs(n) < 1e15 ? Int(n) : (def ?? 0)
    }

    /// A string parameter.
    @discardableResult
    public func string(_ key: String, default def: String? = nil) -> String {
        guard let m = lookup(key) else {
            if let def { accepted[key] = .string(def); return def }
            diagnostics.report(stageLocation, "\(path).\(key)", "missing required string")
            return ""
        }
        guard case .string(let s) = m.value.kind else {
            diagnostics.report(m.value.location, "\(path).\(key)", "expected a string, got \(m.value.shortDescription)")
            return def ?? ""
        }
        accepted[key] = .string(s)
        return s
    }

    /// A bool parameter.
    @discardableResult
    public func bool(_ key: String, default def: Bool) -> Bool {
        guard let m = lookup(key) else { accepted[key] = .bool(def); return def }
        guard case .bool(let b) = m.value.kind else {
            diagnostics.report(m.value.location, "\(path).\(key)", "expected true or false, got \(m.value.shortDescription)")
            return def
        }
        accepted[key] = .bool(b)
        return b
    }

    /// A list of numbers; `count` requires an exact length ("expected two numbers, got 1").
    @discardableResult
    public func numbers(_ key: String, count: Int? = nil, default def: [Double]? = nil) -> [Double] {
        guard let m = lookup(key) else {
            if let def { accepted[key] = .array(def.map { .number($0) }); return def }
            diagnostics.report(stageLocation, "\(path).\(key)", "missing required list of numbers")
            return []
        }
        let want = count.map { Self.spell($0) + ($0 == 1 ? " number" : " numbers") } ?? "a list of numbers"
        guard case .array(let items) = m.value.kind else {
            diagnostics.report(m.value.location, "\(path).\(key)", "expected \(want), got \(m.value.shortDescription)")
            return def ?? []
        }
        var out: [Double] = []
        for (i, item) in items.enumerated() {
            guard case .number(let n) = item.kind else {
                diagnostics.report(item.location, "\(path).\(key)[\(i)]", "expected a number, got \(item.shortDescription)")
                return def ?? []
            }
            out.append(n)
        }
        if let count, out.count != count {
            diagnostics.report(m.value.location, "\(path).\(key)", "expected \(want), got \(out.count)")
        }
        accepted[key] = .array(out.map { .number($0) })
        return out
    }

    /// A list of strings.
    @discardableResult
    public func strings(_ key: String, default def: [String]? = nil) -> [String] {
        guard let m = lookup(key) else {
            if let def { accepted[key] = .array(def.map { .string($0) }); return def }
            diagnostics.report(stageLocation, "\(path).\(key)", "missing required list of strings")
            return []
        }
        guard case .array(let items) = m.value.kind else {
            diagnostics.report(m.value.location, "\(path).\(key)", "expected a list of strings, got \(m.value.shortDescription)")
            return def ?? []
        }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            guard case .string(let s) = item.kind else {
                diagnostics.report(item.location, "\(path).\(key)[\(i)]", "expected a string, got \(item.shortDescription)")
                return def ?? []
            }
            out.append(s)
        }
        accepted[key] = .array(out.map { .string($0) })
        return out
    }

    /// A structured parameter (a list of objects, say) taken as it is; the kind checks it and
    /// reports problems with ``report(_:_:)``. Returns nil (and records nothing) when absent.
    @discardableResult
    public func value(_ key: String) -> JSONValue? {
        guard let m = lookup(key) else { return nil }
        let plain = m.value.plain
        accepted[key] = plain
        return plain
    }

    /// Rejects keys the kind did not read, and returns the canonical parameters.
    public func finish() -> JSONValue {
        for m in members where !known.contains(m.key) {
            let suggestion = EditDistance.didYouMean(m.key, among: known + reserved)
            diagnostics.report(m.keyLocation, "\(path).\(m.key)",
                               "unknown key" + (suggestion.isEmpty ? "; the keys here: " + Set(known + reserved).sorted().joined(separator: ", ") : suggestion))
        }
        return .object(accepted)
    }

    static func spell(_ n: Int) -> String {
        let words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
        return n < words.count ? words[n] : String(n)
    }
}
