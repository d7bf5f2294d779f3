import Foundation

/// What the output folder says about how it was made, as a BIDS-derivatives dataset:
/// `dataset_description.json` at its root, and a JSON sidecar beside each published NIfTI map.
///
/// Both are written from the spec and the task descriptions only (no time, no host, no absolute
/// path), so a rerun writes the same bytes, whatever the machine.
public enum Provenance {
    /// The BIDS version the description declares.
    static let bidsVersion = "1.9.0"

    /// `dataset_description.json`: `DatasetType: derivative`; `GeneratedBy`: pipe, its version,
    /// the spec's SHA-256 and the `--set` overrides; `SourceDatasets`: the folders (relative to
    /// the spec) that hold the study's source files.
    public static func datasetDescription(_ spec: StudySpec, sources: [String]) -> JSONValue {
        let base = spec.directory.standardizedFileURL.path
        var folders = Set<String>()
        for path in sources {
            var rel = path.hasPrefix(base + "/") ? String(path.dropFirst(base.count + 1)) : path
            if rel.hasPrefix("/") { rel = (rel as NSString).deletingLastPathComponent } else {
                let parts = rel.split(separator: "/")
                rel = parts.count > 2 ? parts.prefix(2).joined(separator: "/") : (parts.count == 2 ? String(parts[0]) : ".")
            }
            folders.insert(rel)
        }
        var generated: [String: JSONValue] = [
            "Name": .string("pipe"), "Version": .string(EngineVersion.string.replacingOccurrences(of: "pipe ", with: "")),
            "SpecSHA256": .string(spec.specSHA256), "Spec": .string(spec.specURL.lastPathComponent),
        ]
        if !spec.overrides.isEmpty { generated["Overrides"] = .array(spec.overrides.map { .string($0) }) }
        return .object([
            "Name": .string(spec.name ?? spec.specURL.deletingPathExtension().lastPathComponent),
            "BIDSVersion": .string(bidsVersion), "DatasetType": .string("derivative"),
            "GeneratedBy": .array([.object(generated)]),
            "SourceDatasets": .array(folders.sorted().map { .object(["URL": .string("file:" + $0)]) }),
        ])
    }

    /// The sidecar of a map published by `task`: its stage, kind and version, the task key, the
    /// parameters with defaults filled in, the source files' digests (by name), and the upstream
    /// tasks it read.
    public static func sidecar(_ task: TaskDescription) -> JSONValue {
        var sources: [String: JSONValue] = [:]
        for s in task.sources { sources[s.name] = .string("sha256:" + s.digest) }
        return .object([
            "GeneratedBy": .array([.object(["Name": .string("pipe"), "Version": .string(EngineVersion.string.replacingOccurrences(of: "pipe ", with: ""))])]),
            "Stage": .string(task.stage), "Kind": .string(task.kind), "KindVersion": .number(Double(task.kindVersion)),
            "TaskKey": .string(task.key), "Parameters": task.params, "Scope": .string(task.scope.label),
            "Sources": .object(sources),
            "Inputs": .array(task.inputs.map { .object(["Stage": .string($0.stage), "Scope": .string($0.scope.label), "TaskKey": .string($0.key)]) }),
        ])
    }

    /// The sidecar name of a published NIfTI file (`x.nii.gz` → `x.json`), or nil for other files.
    static func sidecarName(_ output: String) -> String? {
        for ext in [".nii.gz", ".nii"] where output.hasSuffix(ext) { return String(output.dropLast(ext.count)) + ".json" }
        return nil
    }
}
