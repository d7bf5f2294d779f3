import PipelineEngine

/// BIDS-derivatives file names for stage outputs.
public enum BIDSNames {
    /// `sub-<s>[_ses-<s>]_task-<t>[_run-<r>]` for a scan scope (entity order as BIDS wants).
    public static func prefix(_ scope: Scope, task: String) -> String {
        var parts: [String] = []
        if let s = scope.subject { parts.append("sub-\(s)") }
        if let ses = scope.session { parts.append("ses-\(ses)") }
        parts.append("task-\(task)")
        if let run = scope.run { parts.append("run-\(run)") }
        return parts.joined(separator: "_")
    }

    /// A seed name usable as a BIDS label: letters and digits only.
    public static func label(_ name: String) -> String {
        String(name.unicodeScalars.filter { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }.map(Character.init))
    }
}
