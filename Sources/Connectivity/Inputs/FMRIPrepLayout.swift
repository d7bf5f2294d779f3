import Foundation

/// Finds preprocessed runs in an fMRIPrep derivatives folder by BIDS entities.
///
/// Layout: `ROOT/sub-<l>/[ses-<l>/]func/sub-<l>[_ses-<l>]_task-<l>[_run-<l>]_space-<s>[_res-<r>]_desc-preproc_bold.nii.gz`,
/// with `_desc-brain_mask.nii.gz` in the same space, `_desc-confounds_timeseries.tsv` (no space)
/// and a JSON sidecar holding `RepetitionTime`.
public enum FMRIPrepLayout {
    /// BIDS entities of a file name: key-value pairs, the suffix and the extension.
    public struct Entities: Sendable, Equatable {
        public var pairs: [String: String]
        public var suffix: String
        public var ext: String

        /// Parses `sub-01_ses-a_task-rest_desc-preproc_bold.nii.gz`; nil if it is not BIDS-like.
        public init?(fileName: String) {
            var name = fileName
            var ext = ""
            for candidate in [".nii.gz", ".nii", ".tsv", ".json"] where name.hasSuffix(candidate) {
                ext = candidate
                name = String(name.dropLast(candidate.count))
                break
            }
            let parts = name.split(separator: "_").map(String.init)
            guard parts.count >= 2, !ext.isEmpty else { return nil }
            var pairs: [String: String] = [:]
            for part in parts.dropLast() {
                let kv = part.split(separator: "-", maxSplits: 1).map(String.init)
                guard kv.count == 2 else { return nil }
                pairs[kv[0]] = kv[1]
            }
            self.pairs = pairs
            suffix = parts.last!
            self.ext = ext
        }
    }

    /// Every run of `task` in `space` under `root`, sorted by subject, session, run.
    ///
    /// - Parameters:
    ///   - subjects: labels with or without `sub-`; nil for all.
    ///   - sessions: labels with or without `ses-`; nil for all.
    /// - Throws: `InputError` when the folder does not exist or holds no matching run.
    public static func discover(root: String, space: String, task: String, subjects: [String]? = nil,
                                sessions: [String]? = nil) throws -> [FMRIPrepScan] {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw InputError(path: root, "fMRIPrep derivatives folder not found")
        }
        let wantedSubjects = subjects.map { Set($0.map { $0.hasPrefix("sub-") ? String($0.dropFirst(4)) : $0 }) }
        let wantedSessions = sessions.map { Set($0.map { $0.hasPrefix("ses-") ? String($0.dropFirst(4)) : $0 }) }
        var scans: [FMRIPrepScan] = []
        let subjectFolders: [String]
        do {
            subjectFolders = try fm.contentsOfDirectory(atPath: root).filter { $0.hasPrefix("sub-") }.sorted()
        } catch {
            throw InputError(path: root, "cannot list the fMRIPrep derivatives folder: \(ErrorReason.of(error))")
        }
        for subjectFolder in subjectFolders {
            let label = String(subjectFolder.dropFirst(4))
            if let wantedSubjects, !wantedSubjects.contains(label) { continue }
            let subjectPath = root + "/" + subjectFolder
            var funcFolders: [String] = []
            let children = (try? fm.contentsOfDirectory(atPath: subjectPath)) ?? []
            for child in children.sorted() {
                if child == "func" { funcFolders.append(subjectPath + "/func") }
                if child.hasPrefix("ses-") { funcFolders.append(subjectPath + "/" + child + "/func") }
            }
            for folder in funcFolders {
                let files = ((try? fm.contentsOfDirectory(atPath: folder)) ?? []).sorted()
                for file in files {
                    guard let e = Entities(fileName: file), e.suffix == "bold", e.ext.hasPrefix(".nii"),
                          e.pairs["desc"] == "preproc", e.pairs["space"] == space, e.pairs["task"] == task,
                          e.pairs["sub"] == label else { continue }
                    if let wantedSessions, !wantedSessions.contains(e.pairs["ses"] ?? "") { continue }
                    let stem = file.dropLast(("desc-preproc_bold" + e.ext).count)  // ends with "_"
                    var scan = FMRIPrepScan(subject: label, session: e.pairs["ses"], task: task, run: e.pairs["run"],
                                            bold: folder + "/" + file)
                    for candidate in [stem + "desc-brain_mask.nii.gz", stem + "desc-brain_mask.nii"] where files.contains(String(candidate)) {
                        scan.mask = folder + "/" + candidate
                        break
                    }
                    let sidecar = String(stem) + "desc-preproc_bold.json"
                    if files.contains(sidecar) { scan.sidecar = folder + "/" + sidecar }
                    let noSpace = scan.prefix
                    for name in ["\(noSpace)_desc-confounds_timeseries.tsv", "\(noSpace)_desc-confounds_regressors.tsv"] where files.contains(name) {
                        scan.confounds = folder + "/" + name
                        break
                    }
                    scans.append(scan)
                }
            }
        }
        if scans.isEmpty {
            var filters = "task-\(task), space-\(space)"
            if let subjects { filters += ", subjects \(subjects.joined(separator: " "))" }
            if let sessions { filters += ", sessions \(sessions.joined(separator: " "))" }
            throw InputError(path: root, "no *_desc-preproc_bold.nii[.gz] matches \(filters)")
        }
        return scans
    }

    /// `RepetitionTime` from a BOLD sidecar.
    public static func repetitionTime(sidecar path: String) throws -> Double {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw InputError(path: path, "cannot read the sidecar: \(ErrorReason.of(error))")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw InputError(path: path, "not a JSON object")
        }
        guard let value = object["RepetitionTime"] else {
            throw InputError(path: path, field: "RepetitionTime", "missing; expected the TR in seconds")
        }
        guard !(value is String), let tr = (value as? NSNumber)?.doubleValue, tr.isFinite, tr > 0 else {
            let shown = value is String ? "the text \"\(value)\" (a number in quotes?)" : value is NSNull ? "null"
                : value is [Any] ? "a list" : value is [String: Any] ? "an object" : "\(value)"
            throw InputError(path: path, field: "RepetitionTime", "is \(shown); expected a positive number of seconds")
        }
        if tr > 100 {
            throw InputError(path: path, field: "RepetitionTime", "is \(tr); BIDS stores seconds, and this looks like milliseconds")
        }
        return tr
    }
}
