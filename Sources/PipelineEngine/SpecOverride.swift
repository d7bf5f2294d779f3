/// Applies `--set path=value` overrides to a parsed spec.
///
/// The path is dot-separated object keys and array indices (`stages.clean.fwhm`,
/// `cohort.subjects.0`); the value is parsed as JSON, or taken as a string if it is not JSON.
/// Every segment but the last must exist; the last may add a new key (which validation then checks).
public enum SpecOverride {
    /// Applies one `path=value` override to `root`.
    /// - Throws: ``PipeError`` `.invalidSpec` naming the bad segment, with a did-you-mean.
    public static func apply(_ assignment: String, to root: inout JSONNode) throws {
        guard let eq = assignment.firstIndex(of: "="), eq != assignment.startIndex else {
            throw PipeError(.invalidSpec, "--set \(assignment): expected path=value, e.g. --set stages.clean.fwhm=4")
        }
        let path = String(assignment[..<eq])
        let text = String(assignment[assignment.index(after: eq)...])
        let location = SourceLocation(file: "--set \(assignment)", line: 0, column: 0)
        var parser = JSONParser(bytes: Array(text.utf8), file: "--set")
        let value: JSONNode
        if let v = try? parser.parseDocument() {
            value = JSONNode(plain: v.plain, at: location)
        } else {
            value = JSONNode(.string(text), at: location)
        }
        let segments = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if segments.contains(where: \.isEmpty) {
            throw PipeError(.invalidSpec, "--set \(assignment): empty segment in path '\(path)'")
        }
        try set(&root, segments[...], value: value, done: [], assignment: assignment)
    }

    private static func set(_ node: inout JSONNode, _ rest: ArraySlice<String>, value: JSONNode,
                            done: [String], assignment: String) throws {
        let seg = rest.first!
        let here = done.isEmpty ? "the top level" : done.joined(separator: ".")
        switch node.kind {
        case .object(var members):
            if let i = members.firstIndex(where: { $0.key == seg }) {
                if rest.count == 1 {
                    members[i].value = value
                } else {
                    try set(&members[i].value, rest.dropFirst(), value: value, done: done + [seg], assignment: assignment)
                }
            } else if rest.count == 1 {
                members.append(.init(key: seg, keyLocation: value.location, value: value))
            } else if done.isEmpty && seg == "slurm" {
                // The Slurm block is optional: `--set slurm.partition=x` starts one.
                var block = JSONNode(plain: .object([:]), at: value.location)
                try set(&block, rest.dropFirst(), value: value, done: done + [seg], assignment: assignment)
                members.append(.init(key: seg, keyLocation: value.location, value: block))
            } else {
                throw PipeError(.invalidSpec, "--set \(assignment): no key '\(seg)' in \(here)"
                                + EditDistance.didYouMean(seg, among: members.map(\.key)))
            }
            node.kind = .object(members)
        case .array(var items):
            guard let i = Int(seg), i >= 0, i <= items.count, i < items.count || rest.count == 1 else {
                throw PipeError(.invalidSpec, "--set \(assignment): '\(seg)' is not an index of \(here) (\(items.count) items)")
            }
            if rest.count == 1 {
                if i == items.count { items.append(value) } else { items[i] = value }
            } else {
                try set(&items[i], rest.dropFirst(), value: value, done: done + [seg], assignment: assignment)
            }
            node.kind = .array(items)
        default:
            throw PipeError(.invalidSpec, "--set \(assignment): \(here) is a \(node.plain.typeName), not an object, so it has no key '\(seg)'")
        }
    }
}
