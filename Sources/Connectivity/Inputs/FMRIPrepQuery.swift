import Foundation
import PipelineEngine

/// Finds one run's fMRIPrep files by BIDS entities, as pybids' `BIDSLayout.get` does.
///
/// Every file name of the subject's (and session's) `func` folder is parsed into entities
/// (``FMRIPrepLayout/Entities``). A BOLD file matches when its suffix is `bold`, its extension
/// `.nii.gz` or `.nii`, its `desc` is `preproc`, its `sub` and `ses` are the scan's (no `ses`
/// entity for a study without sessions), its `run` is the scan's (no `run` entity for a scan
/// without one; `1` and `01` are one run, as pybids reads runs as numbers), and every entity the
/// spec fixes (``entities``: `task`, `space`, and any of `acq`, `ce`, `rec`, `dir`, `echo`,
/// `res` it sets) has the spec's value. Entities the spec does not fix are free, so fMRIPrep
/// outputs that keep every entity of the raw name are found.
///
/// Exactly one BOLD file must match. Several matches are an error listing them and naming the
/// parameter that would choose; no match is an error listing the BOLD files that do exist for
/// the subject and session.
///
/// The companion files share the BOLD file's entities (every entity but `desc`): the sidecar
/// (`desc-preproc_bold.json`), the brain mask (`desc-brain_mask.nii[.gz]`) and the confounds file
/// (`desc-confounds_timeseries.tsv`, or the older `desc-confounds_regressors.tsv`), whose name has
/// no `space` or `res`. Among several candidates the one with exactly the BOLD file's entity keys
/// wins (a mask `..._acq-mb_...` beside one without `acq`).
public struct FMRIPrepQuery: Sendable, Equatable {
    /// The derivatives folder as the spec gives it (relative to the spec's folder, or absolute).
    public var root: String
    /// The entities the spec fixes, by entity key (`task`, `space`, `acq`, ...).
    public var entities: [String: String]

    /// The entities a spec may fix, in the order of the BIDS entity table; each is the clean
    /// stage's parameter of the same name.
    public static let choosable = ["task", "acq", "ce", "rec", "dir", "echo", "space", "res"]

    public init(root: String, entities: [String: String]) {
        self.root = root
        self.entities = entities.filter { !$0.value.isEmpty }
    }

    /// The `func` folder of a subject and session, relative as ``root`` is.
    public func folder(subject: String, session: String?) -> String {
        "\(root)/sub-\(subject)" + (session.map { "/ses-\($0)" } ?? "") + "/func"
    }

    /// Which part of a scan's folder is missing: the fmriprep folder itself, the subject's, the
    /// session's (with the sessions there are) or `func`; so a misspelt root or session reads as
    /// that, not as every scan's folder.
    func missing(subject: String, session: String?, directory: URL) -> String {
        let fm = FileManager.default
        func isFolder(_ path: String) -> Bool {
            var folder: ObjCBool = false
            return fm.fileExists(atPath: Self.absolute(path, in: directory), isDirectory: &folder) && folder.boolValue
        }
        func sessions(_ path: String) -> [String] {
            ((try? fm.contentsOfDirectory(atPath: Self.absolute(path, in: directory))) ?? []).filter { $0.hasPrefix("ses-") && isFolder(path + "/" + $0) }.sorted()
        }
        let subjectFolder = "\(root)/sub-\(subject)"
        if !isFolder(root) { return "the fmriprep folder \(root) does not exist" }
        if !isFolder(subjectFolder) { return "\(root) has no folder sub-\(subject)" }
        if let session, !isFolder(subjectFolder + "/ses-\(session)") {
            let there = sessions(subjectFolder)
            return "\(subjectFolder) has no folder ses-\(session)" + (there.isEmpty ? "" : " (it has \(there.joined(separator: ", ")))")
        }
        if session == nil, !isFolder(subjectFolder + "/func"), case let there = sessions(subjectFolder), !there.isEmpty {
            return "\(subjectFolder) has no func folder but session folders \(there.joined(separator: ", ")): name the sessions in cohort.sessions"
        }
        return "the folder \(folder(subject: subject, session: session)) does not exist (or cannot be listed)"
    }

    /// One file of the folder with its entities.
    struct Named {
        var name: String
        var entities: FMRIPrepLayout.Entities
        var pairs: [String: String] { entities.pairs }
    }

    /// `path` resolved against `directory` unless absolute.
    static func absolute(_ path: String, in directory: URL) -> String {
        path.hasPrefix("/") ? path : directory.appendingPathComponent(path).path
    }

    /// The parsed file names of a folder, sorted; nil when the folder cannot be listed.
    static func list(_ path: String) -> [Named]? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return nil }
        return names.sorted().compactMap { name in FMRIPrepLayout.Entities(fileName: name).map { Named(name: name, entities: $0) } }
    }

    /// Whether two labels name the same entity value: equal, or equal whole numbers (`1`, `01`).
    static func same(_ a: String?, _ b: String?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        if a == b { return true }
        if let i = Int(a), let j = Int(b) { return i == j }
        return false
    }

    private func isBold(_ f: Named, subject: String, session: String?) -> Bool {
        f.entities.suffix == "bold" && f.entities.ext.hasPrefix(".nii") && f.pairs["desc"] == "preproc"
            && f.pairs["sub"] == subject && Self.same(f.pairs["ses"], session)
            && entities.allSatisfy { Self.same(f.pairs[$0.key], $0.value) }
    }

    private func describe(subject: String, session: String?) -> String {
        "sub-\(subject)" + (session.map { " ses-\($0)" } ?? "")
    }

    private var fixed: String {
        Self.choosable.compactMap { key in entities[key].map { "\(key)-\($0)" } }.joined(separator: ", ")
    }

    /// The run labels of the BOLD files that match every fixed entity (any run), nil for a file
    /// without a run entity; nil when the folder cannot be listed or no file matches.
    /// - Parameter directory: the spec's folder, against which a relative ``root`` resolves.
    public func runs(subject: String, session: String?, directory: URL) -> [String?]? {
        guard let files = Self.list(Self.absolute(folder(subject: subject, session: session), in: directory)) else { return nil }
        var runs: [String?] = []
        for f in files where isBold(f, subject: subject, session: session) && !runs.contains(f.pairs["run"]) {
            runs.append(f.pairs["run"])
        }
        return runs.isEmpty ? nil : runs
    }

    /// The files of one scan: `bold`, `sidecar`, `confounds` and (with `mask`) `brain_mask`, as
    /// paths relative as ``root`` is.
    /// - Throws: ``PipeError`` (`.invalidSpec`) for no match or several, with the files listed.
    /// - Parameter sidecar: whether the BOLD file's JSON sidecar is wanted (the repetition time
    ///   comes from it); a stage that takes the TR from the header or the spec reads none.
    public func files(subject: String, session: String?, run: String?, mask: Bool, sidecar: Bool = true, directory: URL) throws -> [String: String] {
        let folder = folder(subject: subject, session: session)
        let who = describe(subject: subject, session: session) + (run.map { " run-\($0)" } ?? "")
        guard let files = Self.list(Self.absolute(folder, in: directory)) else {
            throw PipeError(.invalidSpec, "BOLD file not found: " + missing(subject: subject, session: session, directory: directory))
        }
        let bolds = files.filter { isBold($0, subject: subject, session: session) && Self.same($0.pairs["run"], run) }
        guard let bold = bolds.first else {
            let present = files.filter { $0.entities.suffix == "bold" && $0.entities.ext.hasPrefix(".nii") }.map(\.name)
            throw PipeError(.invalidSpec, "BOLD file not found: no *_desc-preproc_bold.nii[.gz] in \(folder) matches \(who) (\(fixed))"
                            + (run == nil ? ", without a run entity" : "") + "; " + Self.listing(present, of: "BOLD files", else: files.map(\.name)))
        }
        if bolds.count > 1 {
            throw PipeError(.invalidSpec, "\(bolds.count) BOLD files match \(who) (\(fixed)): \(bolds.map(\.name).joined(separator: ", ")); "
                            + Self.chooser(bolds))
        }
        var out = ["bold": "\(folder)/\(bold.name)"]
        var shared = bold.pairs
        shared["desc"] = nil
        func companion(_ key: String, _ name: String, _ what: String, drop: [String] = [], hint: String = "", _ accept: (Named) -> Bool) throws {
            var wanted = shared
            for key in drop { wanted[key] = nil }
            let candidates = files.filter { f in accept(f) && wanted.allSatisfy { Self.same(f.pairs[$0.key], $0.value) } }
            let exact = candidates.filter { Set($0.pairs.keys).subtracting(["desc"]) == Set(wanted.keys) }
            let chosen = candidates.count == 1 ? candidates : exact
            guard chosen.count == 1 else {
                if candidates.isEmpty {
                    throw PipeError(.invalidSpec, "\(what) not found: no \(name) in \(folder) shares the entities of \(bold.name)"
                                    + (drop.isEmpty ? "" : " (but \(drop.joined(separator: ", ")))") + "; " + Self.listing(files.map(\.name), of: "files") + hint)
                }
                throw PipeError(.invalidSpec, "\(candidates.count) \(what)s share the entities of \(bold.name): "
                                + "\(candidates.map(\.name).joined(separator: ", ")); " + Self.chooser(candidates))
            }
            out[key] = "\(folder)/\(chosen[0].name)"
        }
        if sidecar {
            try companion("sidecar", "desc-preproc_bold.json", "sidecar",
                          hint: ". The sidecar gives the repetition time; without one, set tr_source to \"header\" (the NIfTI's pixdim[4]) or repetition_time") {
                $0.entities.suffix == "bold" && $0.entities.ext == ".json" && $0.pairs["desc"] == "preproc"
            }
        }
        try companion("confounds", "desc-confounds_timeseries.tsv (or desc-confounds_regressors.tsv)", "confounds file", drop: ["space", "res"]) {
            ["timeseries", "regressors"].contains($0.entities.suffix) && $0.entities.ext == ".tsv" && $0.pairs["desc"] == "confounds"
        }
        if mask {
            try companion("brain_mask", "desc-brain_mask.nii[.gz]", "brain mask") { $0.entities.suffix == "mask" && $0.entities.ext.hasPrefix(".nii") && $0.pairs["desc"] == "brain" }
        }
        return out
    }

    /// "the BOLD files there: a, b" (at most 12 names), or the folder's files when there are none.
    static func listing(_ names: [String], of what: String, else others: [String] = []) -> String {
        if names.isEmpty {
            return others.isEmpty ? "the folder holds no BIDS-named file" : "no \(what) there; its files: " + shortList(others)
        }
        return "the \(what) there: " + shortList(names)
    }

    private static func shortList(_ names: [String]) -> String {
        names.listed(shown: 12)
    }

    /// Which parameter would choose among files that all match: the entities whose values differ.
    static func chooser(_ files: [Named]) -> String {
        let keys = Set(files.flatMap { $0.pairs.keys })
        let differing = keys.filter { key in Set(files.map { $0.pairs[key] ?? "" }).count > 1 }
        let settable = choosable.filter { differing.contains($0) }
        if !settable.isEmpty { return "set " + settable.joined(separator: " or ") + " to choose" }
        if !differing.isEmpty {
            return "they differ in \(differing.sorted().joined(separator: ", ")), which clean cannot choose by; give bold_pattern and the other *_pattern parameters"
        }
        return "they differ only in their extension; remove one"
    }
}
