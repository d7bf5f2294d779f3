import Foundation
import NIfTI
import TestSupport
import XCTest

/// `pipe validate` checks names and values against the study's files before anything runs: each
/// mistake a new user makes in pipelines/ketamine-amygdala.json, written into a copy of it on a
/// synthetic study, is exit 2 within seconds, at its line, with the right name suggested.
final class SpecCheckTests: XCTestCase {
    static let root = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-speccheck-\(UUID().uuidString.prefix(8))")
    static var spec: URL { root.appendingPathComponent("ketamine-amygdala.json") }

    override class func setUp() {
        super.setUp()
        // Three anxious responders, three anxious non-responders, three non-anxious.
        let subjects = ["sub-01", "sub-02", "sub-03", "sub-04", "sub-09", "sub-12", "sub-06", "sub-07", "sub-13"]
        let synth = try! runPipe(["synth", "--out", root.path, "--subjects"] + subjects)
        precondition(synth.status == 0, synth.stderr)
        let fm = FileManager.default
        let atlases = root.appendingPathComponent("atlases")
        try! fm.createDirectory(at: atlases, withIntermediateDirectories: true)
        let atlas = root.appendingPathComponent("atlas/atlas-synth_space-MNI152NLin2009cAsym_res-4mm_dseg")
        for name in ["amygdala_subregions", "peak_labels"] {
            try! fm.copyItem(at: atlas.appendingPathExtension("nii.gz"), to: atlases.appendingPathComponent("\(name)_2mm.nii.gz"))
            try! fm.copyItem(at: atlas.appendingPathExtension("tsv"), to: atlases.appendingPathComponent("\(name).tsv"))
        }
        try! fm.copyItem(at: packageRoot.appendingPathComponent("pipelines/ketamine-amygdala.json"), to: spec)
    }

    /// What a problem of some of the runs, not all, ends with.
    static let leaveOutOne = "; to leave this scan out, list it in cohort.missing_scans", leaveOutSeveral = "; to leave these scans out, list them in cohort.missing_scans"

    override class func tearDown() {
        try? FileManager.default.removeItem(at: root)
        super.tearDown()
    }

    /// Writes the spec with `original` replaced by `mistake` and validates it.
    func validate(replacing original: String, with mistake: String) throws -> (CommandResult, line: Int, seconds: Double) {
        let text = try String(contentsOf: Self.spec, encoding: .utf8)
        XCTAssertTrue(text.contains(original), "the spec no longer has \(original)")
        let bad = text.replacingOccurrences(of: original, with: mistake)
        // The line of the first changed character.
        let changed = zip(text.utf8, bad.utf8).prefix { $0 == $1 }.count
        let line = bad.utf8.prefix(changed).filter { $0 == UInt8(ascii: "\n") }.count + 1
        let url = Self.root.appendingPathComponent("bad.json")
        try bad.write(to: url, atomically: false, encoding: .utf8)
        let start = Date()
        let r = try runPipe(["validate", url.path])
        return (r, line, Date().timeIntervalSince(start))
    }

    /// Validates `text` written as the spec `name` beside the study: the result, and its problem
    /// lines (those at a line of that spec).
    func validate(text: String, as name: String) throws -> (result: CommandResult, problems: [String]) {
        let url = Self.root.appendingPathComponent(name)
        try text.write(to: url, atomically: false, encoding: .utf8)
        let r = try runPipe(["validate", url.path])
        return (r, r.stderr.split(separator: "\n").map(String.init).filter { $0.contains("\(name):") })
    }

    func testASubjectWithDataButNoParticipantsRowIsNamed() throws {
        // Two subjects fMRIPrep processed that participants.tsv does not list: in no cohort, which
        // validate, plan and run say (a note, not an error: the spec is valid).
        let fmriprep = Self.root.appendingPathComponent("derivatives/fmriprep")
        for name in ["sub-51", "sub-50"] { try FileManager.default.createDirectory(at: fmriprep.appendingPathComponent(name), withIntermediateDirectories: true) }
        try Data().write(to: fmriprep.appendingPathComponent("sub-52"))  // a file, not a subject's folder
        defer { for name in ["sub-50", "sub-51", "sub-52"] { try? FileManager.default.removeItem(at: fmriprep.appendingPathComponent(name)) } }
        let note = "note: clean: 2 subjects have folders in derivatives/fmriprep but no row in the participants table, so they are in no cohort: sub-50, sub-51; add a row to include them"
        let r = try runPipe(["validate", Self.spec.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("  " + note + "\n"), r.stdout)
        let plan = try runPipe(["plan", Self.spec.path])
        XCTAssertTrue(plan.stdout.contains("\n" + note + "\n"), plan.stdout)
        try FileManager.default.removeItem(at: fmriprep.appendingPathComponent("sub-51"))
        let one = try runPipe(["validate", Self.spec.path, "--json"])
        let o = try JSONSerialization.jsonObject(with: Data(one.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(o["notes"] as? [String], ["clean: 1 subject has a folder in derivatives/fmriprep but no row in the participants table, so it is in no cohort: sub-50; add a row to include it"], one.stdout)
        try FileManager.default.removeItem(at: fmriprep.appendingPathComponent("sub-50"))
        let none = try JSONSerialization.jsonObject(with: Data(try runPipe(["validate", Self.spec.path, "--json"]).stdout.utf8)) as! [String: Any]
        XCTAssertEqual(none["notes"] as? [String], [])
    }

    func testTheUnmodifiedSpecValidatesWithoutReadingData() throws {
        let r = try runPipe(["validate", Self.spec.path, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let o = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(o["bytes_hashed"] as? Int, 0, "validate hashes no source")
        XCTAssertEqual(o["tasks"] as? Int, 43, "the spec's tasks, its report included")
        // Every BOLD file's CRC-32 broken, its length (ISIZE) intact: reading the voxel data to the
        // end fails on the checksum, and validate, which reads the headers and the trailers' length
        // alone, passes.
        let fmriprep = Self.root.appendingPathComponent("derivatives/fmriprep")
        let copy = URL(fileURLWithPath: Self.root.path + "-bad-checksums")
        try? FileManager.default.removeItem(at: copy)
        try FileManager.default.copyItem(at: Self.root, to: copy)
        defer { try? FileManager.default.removeItem(at: copy) }
        var cut = 0
        for case let rel as String in FileManager.default.enumerator(atPath: fmriprep.path)! where rel.hasSuffix("_bold.nii.gz") {
            let url = copy.appendingPathComponent("derivatives/fmriprep").appendingPathComponent(rel)
            var bytes = [UInt8](try Data(contentsOf: url))
            for k in (bytes.count - 8)..<(bytes.count - 4) { bytes[k] ^= 0xFF }
            try Data(bytes).write(to: url)
            XCTAssertThrowsError(try NIfTIFile.read(url.path, as: Float.self), "a data read notices")
            cut += 1
        }
        XCTAssertEqual(cut, 18)
        let badChecksums = try runPipe(["validate", copy.appendingPathComponent("ketamine-amygdala.json").path])
        XCTAssertEqual(badChecksums.status, 0, badChecksums.stderr)
    }

    func testEachMistakeIsNamedAtItsLineWithTheRightNameSuggested() throws {
        // (original, mistake, the problem's JSON path, words of the message, the suggestion)
        let cases: [(String, String, String, String, String?)] = [
            (#""label": "LBA_left""#, #""label": "LBA_lft""#, "stages.connectivity.seeds[0].label", "the atlas has no label 'LBA_lft'", "LBA_left"),
            (#""seed": "CMAright", "session": "baseline","#, #""seed": "CMAleftt", "session": "baseline","#,
             "stages.anxiety_baseline.seed", "stage connectivity computes no seed 'CMAleftt'", "CMAleft"),
            (#""seed": "CMAright", "session": "baseline","#, #""seed": "CMAright", "session": "ses-baseline","#,
             "stages.anxiety_baseline.session", "write the session's label without 'ses-': 'baseline', as cohort.sessions does", nil),
            (#""seed": "CMAright", "session": "baseline","#, #""seed": "CMAright", "session": "basline","#,
             "stages.anxiety_baseline.session", "'basline' is not one of the cohort's sessions", "baseline"),
            (#""pre": "baseline", "post": "day13",\#n      "include""#, #""pre": "baseline", "post": "day14",\#n      "include""#,
             "stages.responders_change.post", "'day14' is not one of the cohort's sessions", "day13"),
            (#""covariates": ["age"], "contrasts": ["anxious > nonanxious"]"#, #""covariates": ["agee"], "contrasts": ["anxious > nonanxious"]"#,
             "stages.anxiety_baseline.covariates[0]", "participants.tsv has no column 'agee'", "age"),
            (#""clinical": ["madrs_change_pct"],\#n      "predict": {"column": "responder""#, #""clinical": ["madrs_change"],\#n      "predict": {"column": "responder""#,
             "stages.responders_followup.clinical[0]", "participants.tsv has no column 'madrs_change'", nil),
            (#""predict": {"column": "responder""#, #""predict": {"column": "responer""#,
             "stages.responders_followup.predict.column", "participants.tsv has no column 'responer'", "responder"),
            (#""group": "responder", "covariates": ["age"], "contrasts": ["responder > nonresponder"]"#,
             #""group": "responder", "covariates": ["age"], "contrasts": ["responder > nonrespondr"]"#,
             "stages.responders_baseline.contrasts[0]", "'nonrespondr' in \"responder > nonrespondr\" is not a column of the design", "nonresponder"),
            (#""include": {"group": ["anxious", "nonanxious"]}"#, #""include": {"group": ["anxious", "nonanxius"]}"#,
             "cohort.include.group", "no row of participants.tsv has group 'nonanxius'", "nonanxious"),
            (#""include": {"group": ["anxious"]}, "group": "responder","#, #""include": {"group": ["anxius"]}, "group": "responder","#,
             "stages.responders_followup.include.group", "no row of participants.tsv has group 'anxius'", "anxious"),
            (#""confounds": "24P+wm_csf""#, #""confounds": "24P+wmcsf""#, "stages.clean.confounds", "'wmcsf': confound column not found", "wm_csf"),
            (#""high_pass": 0.01, "low_pass": 0.1"#, #""high_pass": 0.2, "low_pass": 0.1"#,
             "stages.clean.high_pass", "0.2 Hz is not below low_pass (0.1 Hz)", nil),
            (#""high_pass": 0.01, "low_pass": 0.1"#, #""high_pass": 0.01, "low_pass": 0.3"#,
             "stages.clean.low_pass", "0.3 Hz is at or above the Nyquist frequency 0.25 Hz of the repetition time 2 s", nil),
            (#""dummy_scans": 5,"#, #""dummy_scans": 5000,"#, "stages.clean.dummy_scans", "dropping 5000 of", nil),
            (#""scrub_min_segment": 5,"#, #""scrub_min_segment": 5, "min_dof": 500,"#, "stages.clean.min_dof",
             "residual degrees of freedom, fewer than min_dof 500:", nil),
        ]
        let text = try String(contentsOf: Self.spec, encoding: .utf8)
        for (original, mistake, path, words, suggestion) in cases {
            let (r, line, seconds) = try validate(replacing: original, with: mistake)
            XCTAssertEqual(r.status, 2, "\(path): \(r.stderr)")
            XCTAssertLessThan(seconds, 20, "\(path): validate took \(seconds) s")
            let problem = r.stderr.split(separator: "\n").first { $0.contains(" \(path): ") }.map(String.init) ?? ""
            XCTAssertTrue(problem.contains("bad.json:\(line):"), "\(path) not at line \(line): \(r.stderr)")
            XCTAssertTrue(problem.contains(words), "\(path): \(r.stderr)")
            if let suggestion { XCTAssertTrue(problem.contains("(did you mean '\(suggestion)'?)"), "\(path): \(r.stderr)") }
            // Reported once per place it was written, not once per scan, and nothing else at that stage.
            XCTAssertEqual(r.stderr.components(separatedBy: words).count - 1, text.components(separatedBy: original).count - 1, r.stderr)
            XCTAssertEqual(r.stderr.split(separator: "\n").filter { $0.contains("bad.json:") }.count, text.components(separatedBy: original).count - 1,
                           "\(path): \(r.stderr)")
        }
    }

    func testAValueThatDiffersFromAFilterValueOnlyInCaseOrSpacesIsASpecError() throws {
        // 'Anxious' and 'anxious ' would be dropped by include group anxious without a word.
        let url = Self.root.appendingPathComponent("participants.tsv")
        let original = try Data(contentsOf: url)
        defer { try? original.write(to: url) }
        let edited = String(decoding: original, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            line.hasPrefix("sub-02\tanxious\t") ? line.replacingOccurrences(of: "\tanxious\t", with: "\tAnxious\t")
                : line.hasPrefix("sub-03\tanxious\t") ? line.replacingOccurrences(of: "\tanxious\t", with: "\tanxious \t") : String(line)
        }
        try Data(edited.joined(separator: "\n").utf8).write(to: url)
        let r = try runPipe(["validate", Self.spec.path])
        XCTAssertEqual(r.status, 2, r.stderr)
        for (who, cell) in [("sub-02 has", "Anxious"), ("sub-03 has", "anxious ")] {
            XCTAssertTrue(r.stderr.contains("ketamine-amygdala.json:8:17 cohort.include.group: \(who) '\(cell)' in participants.tsv, which differs from the listed "
                                            + "'anxious' only in letter case or spaces"), r.stderr)
        }
        // Without the cohort's filter, each stage's include says the same.
        let text = try String(contentsOf: Self.spec, encoding: .utf8)
            .replacingOccurrences(of: #""include": {"group": ["anxious", "nonanxious"]},"#, with: "")
        let (stages, problems) = try validate(text: text, as: "no-cohort-filter.json")
        XCTAssertEqual(stages.status, 2, stages.stderr)
        XCTAssertTrue(problems.contains { $0.contains(" stages.responders_baseline.include.group: sub-02 has 'Anxious' in participants.tsv") }, stages.stderr)
    }

    func testAQCMotionRuleThatEmptiesAGroupLevelIsASpecError() throws {
        // The non-anxious subjects' baseline runs moved: framewise displacement 0.9 mm throughout
        // (the anxious runs' means are about 0.1-0.2 mm).
        let fmriprep = Self.root.appendingPathComponent("derivatives/fmriprep")
        var originals: [URL: Data] = [:]
        defer { for (url, data) in originals { try? data.write(to: url) } }
        for subject in ["sub-06", "sub-07", "sub-13"] {
            let url = fmriprep.appendingPathComponent("\(subject)/ses-baseline/func/\(subject)_ses-baseline_task-rest_desc-confounds_timeseries.tsv")
            let data = try Data(contentsOf: url)
            originals[url] = data
            let rows = String(decoding: data, as: UTF8.self).split(separator: "\n").map { $0.components(separatedBy: "\t") }
            let k = try XCTUnwrap(rows[0].firstIndex(of: "framewise_displacement"))
            let moved = rows.enumerated().map { i, row in
                row.enumerated().map { j, cell in j == k && i > 1 ? "0.9" : cell }.joined(separator: "\t")
            }
            try Data((moved.joined(separator: "\n") + "\n").utf8).write(to: url)
        }
        func spec(maxMeanFD: Double) throws -> String {
            let text = try String(contentsOf: Self.spec, encoding: .utf8)
            let qc = #""qc": {"kind": "qc", "from": ["clean"], "max_mean_fd": "# + "\(maxMeanFD)},\n    "
            return text.replacingOccurrences(of: #""responders_baseline": {"#, with: qc + #""responders_baseline": {"#)
                .replacingOccurrences(of: #""anxiety_baseline": {\#n      "kind": "group", "from": "connectivity","#,
                                      with: #""anxiety_baseline": {\#n      "kind": "group", "from": ["connectivity", "qc"],"#)
                .replacingOccurrences(of: #""kind": "roi", "from": ["connectivity", "anxiety_baseline"],"#,
                                      with: #""kind": "roi", "from": ["connectivity", "qc", "anxiety_baseline"],"#)
        }
        // At 0.5 mm every non-anxious baseline run is excluded, so the contrast's level has no
        // subject: the stage stopped after every run was cleaned.
        let (r, problems) = try validate(text: try spec(maxMeanFD: 0.5), as: "qc-rule.json")
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertEqual(problems.count, 1, r.stderr)
        XCTAssertTrue(problems.first?.hasSuffix(" stages.anxiety_baseline.contrasts[0]: level 'nonanxious' of group in \"anxious > nonanxious\" has no "
                                                + "subject the stage can read (included, with a scan at baseline); QC will exclude "
                                                + "sub-06_ses-baseline (max_mean_fd 0.9 (threshold 0.5)), sub-07_ses-baseline (max_mean_fd 0.9 (threshold 0.5)), "
                                                + "sub-13_ses-baseline (max_mean_fd 0.9 (threshold 0.5)), so the design has no such column") == true, r.stderr)
        // At 1 mm none is, and the spec is sound.
        let ok = try validate(text: try spec(maxMeanFD: 1), as: "qc-rule.json").result
        XCTAssertEqual(ok.status, 0, ok.stderr)
    }

    func testAPredictionOfAClassEverySubjectHasIsASpecError() throws {
        // responders_followup includes anxious patients only: predicting 'anxious' has no negatives
        // (the task wrote n/a in every column and exited 0).
        let (r, line, _) = try validate(replacing: #""predict": {"column": "responder", "positive": "responder"}"#,
                                        with: #""predict": {"column": "group", "positive": "anxious"}"#)
        XCTAssertEqual(r.status, 2, r.stderr)
        let problems = r.stderr.split(separator: "\n").filter { $0.contains("bad.json:") }
        XCTAssertEqual(problems.count, 1, r.stderr)
        XCTAssertTrue(problems.first?.contains("bad.json:\(line):") == true, r.stderr)
        XCTAssertTrue(problems.first?.hasSuffix(" stages.responders_followup.predict: every subject the stage includes has group 'anxious', so there is "
                                                + "no other class to predict it against: include subjects of another group, or remove predict") == true, r.stderr)
    }

    func testNilearnsNamesForASettingLeadToPipes() throws {
        for (original, mistake, expected) in [(#""smoothing_fwhm": 4,"#, #""fwhm": 4,"#, "stages.clean.fwhm: unknown key (did you mean 'smoothing_fwhm'?)"),
                                              (#""dummy_scans": 5,"#, #""t_r": 2,"#, "stages.clean.t_r: unknown key (did you mean 'repetition_time'?)")] {
            let (r, _, _) = try validate(replacing: original, with: mistake)
            XCTAssertEqual(r.status, 2, r.stderr)
            XCTAssertTrue(r.stderr.contains(expected), r.stderr)
        }
    }

    func testAMissingSourceIsOneProblemAtItsKeyNotOnePerScan() throws {
        // (original, mistake, the problem's path and message; 18 scans: 9 subjects x 2 sessions)
        let cases: [(String, String, String)] = [
            (#""atlas": "atlases/amygdala_subregions_2mm.nii.gz""#, #""atlas": "atlases/amygdala_subregions_2mm.nii""#,
             "stages.connectivity.atlas: source file not found: atlases/amygdala_subregions_2mm.nii, in all 18 scans"),
            (#""mask": "brain""#, #""mask": "masks/gm.nii.gz""#, "stages.clean.mask: source file not found: masks/gm.nii.gz, in all 18 scans"),
            (#"{"name": "LBAleft", "label": "LBA_left"},"#, #"{"name": "LBAleft", "label": "LBA_left"}, {"name": "pcc", "mask": "masks/pcc.nii.gz"},"#,
             "stages.connectivity.seeds[1].mask: source file not found: masks/pcc.nii.gz, in all 18 scans"),
        ]
        for (original, mistake, expected) in cases {
            let (r, line, _) = try validate(replacing: original, with: mistake)
            XCTAssertEqual(r.status, 2, r.stderr)
            let problems = r.stderr.split(separator: "\n").filter { $0.contains("bad.json:") }
            XCTAssertEqual(problems.count, 1, r.stderr)
            XCTAssertTrue(problems.first?.contains("bad.json:\(line):") == true, "not at line \(line): \(r.stderr)")
            XCTAssertTrue(problems.first?.hasSuffix(" " + expected) == true, r.stderr)
        }
        // A misspelt fmriprep folder is named as that, once, not as each scan's func folder.
        let (r, _, _) = try validate(replacing: #""fmriprep": "derivatives/fmriprep""#, with: #""fmriprep": "derivatives/fmriprp""#)
        XCTAssertEqual(r.status, 2, r.stderr)
        let problems = r.stderr.split(separator: "\n").filter { $0.contains("bad.json:") }
        XCTAssertEqual(problems.count, 1, r.stderr)
        XCTAssertTrue(problems.first?.hasSuffix(" stages.clean: BOLD file not found: the fmriprep folder derivatives/fmriprp does not exist, in all 18 scans") == true,
                      r.stderr)
        // Files missing from some runs: one problem, its runs listed, the first's message in full.
        let fmriprep = Self.root.appendingPathComponent("derivatives/fmriprep")
        var moved: [(URL, URL)] = []
        defer { for (from, to) in moved { try? FileManager.default.moveItem(at: to, to: from) } }
        for subject in ["sub-02", "sub-06"] {
            let url = fmriprep.appendingPathComponent("\(subject)/ses-day13/func/\(subject)_ses-day13_task-rest_space-MNI152NLin2009cAsym_desc-preproc_bold.json")
            let away = Self.root.appendingPathComponent("\(subject)-sidecar.json")
            try FileManager.default.moveItem(at: url, to: away)
            moved.append((url, away))
        }
        let sidecars = try runPipe(["validate", Self.spec.path])
        XCTAssertEqual(sidecars.status, 2, sidecars.stderr)
        let lines = sidecars.stderr.split(separator: "\n").filter { $0.contains("ketamine-amygdala.json:") }
        XCTAssertEqual(lines.count, 1, sidecars.stderr)
        XCTAssertTrue(lines.first?.contains(" stages.clean: in 2 scans: sub-02_ses-day13, sub-06_ses-day13; the first, sub-02_ses-day13: sidecar not found: "
                                            + "no desc-preproc_bold.json in derivatives/fmriprep/sub-02/ses-day13/func") == true, sidecars.stderr)
        XCTAssertTrue(lines.first?.hasSuffix(". The sidecar gives the repetition time; without one, set tr_source to \"header\" (the NIfTI's pixdim[4]) "
                                             + "or repetition_time" + Self.leaveOutSeveral) == true, sidecars.stderr)
        // The header's TR, or the spec's, needs no sidecar.
        for setting in ["stages.clean.tr_source=\"header\"", "stages.clean.repetition_time=2"] {
            let r = try runPipe(["validate", Self.spec.path, "--set", setting])
            XCTAssertEqual(r.status, 0, "\(setting): \(r.stderr)")
        }
    }

    func testAGroupStageWithoutASessionInATwoSessionCohortIsASpecError() throws {
        // Each subject has a map at each session: which one to test must be said, at the stage.
        let (r, _, _) = try validate(replacing: #""seed": "CMAright", "session": "baseline","#, with: #""seed": "CMAright","#)
        XCTAssertEqual(r.status, 2, r.stderr)
        let text = try String(contentsOf: Self.spec, encoding: .utf8)
        let stageLine = text.components(separatedBy: "\n").firstIndex { $0.contains("\"anxiety_baseline\": {") }! + 1
        XCTAssertTrue(r.stderr.contains("bad.json:\(stageLine):"), r.stderr)
        XCTAssertTrue(r.stderr.contains("stages.anxiety_baseline.session: the cohort has sessions baseline, day13; name the one to test"), r.stderr)
        XCTAssertEqual(r.stderr.components(separatedBy: "name the one to test").count - 1, 1, r.stderr)
    }

    /// Settings that leave the first run too few degrees of freedom even uncensored fail before
    /// anything runs, with the run's count as cleaning makes it (the confound rank included);
    /// censoring that takes it below is the run's motion, refused when it runs, not a spec error.
    func testTooFewDegreesOfFreedomForTheSettingsIsASpecErrorButCensoringIsNot() throws {
        // A narrow band: 5 Hz-thousandths of the 0.25 Hz spectrum keep 2 % of the run.
        let (r, line, _) = try validate(replacing: #""high_pass": 0.01, "low_pass": 0.1"#, with: #""high_pass": 0.01, "low_pass": 0.015"#)
        XCTAssertEqual(r.status, 2, r.stderr)
        let problem = r.stderr.split(separator: "\n").first { $0.contains(" stages.clean.min_dof: ") }.map(String.init) ?? ""
        let text = try String(contentsOf: Self.spec, encoding: .utf8)
        let stageLine = text.components(separatedBy: "\n").firstIndex { $0.contains("\"clean\": {") }! + 1
        XCTAssertTrue(problem.contains("bad.json:\(stageLine):"), "at the stage (min_dof is not written): \(r.stderr)")
        XCTAssertNotEqual(line, stageLine)
        // 120 volumes less 5 dummy scans; the band keeps ⌊115 × 0.005 / 0.25⌋ = 2; the 26 columns
        // of 24P+wm_csf, filtered to that band, have rank 2 (as when the run is cleaned).
        XCTAssertTrue(problem.contains("sub-01_ses-baseline's run derivatives/fmriprep/sub-01/ses-baseline/func/"), problem)
        XCTAssertTrue(problem.contains("leaves -2 residual degrees of freedom, fewer than min_dof 10: 115 of 115 volumes kept; "
                                       + "the band 0.01–0.015 Hz keeps 2% of the spectrum (2); the mean and linear trend use 2; "
                                       + "26 confound columns, of rank 2 once filtered and detrended, use 2 (before censoring, which leaves fewer still)"), problem)
        XCTAssertEqual(r.stderr.components(separatedBy: "fewer than min_dof").count - 1, 1, "once, not once per scan: \(r.stderr)")

        // Censoring every volume (FD above 0.0001 mm anywhere) takes each run below: not the settings.
        let (censored, _, _) = try validate(replacing: #""scrub_fd": 0.5,"#, with: #""scrub_fd": 0.0001,"#)
        XCTAssertEqual(censored.status, 0, censored.stderr)
    }

    func testARunWithMoreConfoundColumnsThanTheOthersIsCheckedForItsDegreesOfFreedom() throws {
        // fMRIPrep keeps a different number of aCompCor components per run: one run with 20
        // instead of 5 takes 44 columns where the others take 29, too many for its 115 volumes.
        let text = try String(contentsOf: Self.spec, encoding: .utf8)
            .replacingOccurrences(of: #""confounds": "24P+wm_csf""#, with: #""confounds": "24P+a_comp_cor_*""#)
        let ok = try validate(text: text, as: "compcor.json").result
        XCTAssertEqual(ok.status, 0, ok.stderr)
        let url = Self.root.appendingPathComponent("derivatives/fmriprep/sub-07/ses-day13/func/sub-07_ses-day13_task-rest_desc-confounds_timeseries.tsv")
        let original = try Data(contentsOf: url)
        defer { try? original.write(to: url) }
        var rng = SystemRandomNumberGenerator()
        let lines = String(decoding: original, as: UTF8.self).split(separator: "\n").enumerated().map { i, line in
            line + (5..<20).map { k in i == 0 ? String(format: "\ta_comp_cor_%02d", k) : "\t\(Double.random(in: -1...1, using: &rng))" }.joined()
        }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: url)
        let (r, problems) = try validate(text: text, as: "compcor.json")
        XCTAssertEqual(r.status, 2, "the run's clean task would stop after the others were cleaned:\n\(r.stderr)")
        XCTAssertEqual(problems.count, 1, r.stderr)
        XCTAssertTrue(problems.first?.contains(" stages.clean.min_dof: sub-07_ses-day13's run ") == true, r.stderr)
        XCTAssertTrue(problems.first?.contains("44 confound columns use 44") == true, r.stderr)
    }

    /// A subject the stage includes with no value, or no number, in a design column fails before
    /// anything runs (the group stage would stop after every scan was cleaned), at each stage
    /// whose design reads it; a subject no stage includes is not held against it.
    func testAGapInACovariateOfAnIncludedSubjectIsASpecError() throws {
        var rows = try String(contentsOf: Self.root.appendingPathComponent("participants.tsv"), encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        let age = rows[0].firstIndex(of: "age")!, group = rows[0].firstIndex(of: "group")!
        // sub-02 (anxious) has no age, sub-07 (non-anxious) a word; sub-05, with no values at all,
        // is left out by the cohort's include (and has no scans).
        for i in rows.indices.dropFirst() {
            if rows[i][0] == "sub-02" { rows[i][age] = "n/a" }
            if rows[i][0] == "sub-07" { XCTAssertEqual(rows[i][group], "nonanxious"); rows[i][age] = "forty" }
        }
        rows.append(["sub-05"] + rows[1].dropFirst().map { _ in "n/a" })
        try (rows.map { $0.joined(separator: "\t") }.joined(separator: "\n") + "\n")
            .write(to: Self.root.appendingPathComponent("participants-gap.tsv"), atomically: false, encoding: .utf8)
        let (r, _, _) = try validate(replacing: #""participants.tsv""#, with: #""participants-gap.tsv""#)
        XCTAssertEqual(r.status, 2, r.stderr)
        let text = try String(contentsOf: Self.spec, encoding: .utf8)
        func line(of stage: String) -> Int { text.components(separatedBy: "\n").firstIndex { $0.contains("\"\(stage)\": {") }! + 1 }
        // age is covariates[0] of two stages and [1] of one; each includes sub-02 (anxious).
        for (stage, key) in [("responders_baseline", "covariates[0]"), ("anxiety_baseline", "covariates[0]"),
                             ("improvement_baseline", "covariates[1]")] {
            let problems = r.stderr.split(separator: "\n").filter { $0.contains(" stages.\(stage).\(key): ") }
            XCTAssertTrue(problems.contains { $0.contains("in participants-gap.tsv's column age, sub-02 has no value; exclude the subject or fill it in") },
                          "\(stage): \(r.stderr)")
            XCTAssertTrue(problems.allSatisfy { $0.contains("bad.json:") && Int($0.split(separator: ":")[1])! >= line(of: stage) }, "\(stage): \(r.stderr)")
        }
        // roi's clinical column may have gaps (correlations leave the subject out), not words.
        XCTAssertFalse(r.stderr.contains("stages.responders_followup.clinical"), r.stderr)
        // sub-07 is only in anxiety_baseline (anxious vs non-anxious).
        let word = r.stderr.split(separator: "\n").filter { $0.contains("sub-07 has 'forty'; expected a number") }
        XCTAssertEqual(word.count, 1, r.stderr)
        XCTAssertTrue(word.first?.contains(" stages.anxiety_baseline.covariates[0]: ") ?? false, r.stderr)
        XCTAssertFalse(r.stderr.contains("sub-05"), r.stderr)

        // Without a baseline scan, sub-02 is read by no baseline test (nor by the longitudinal
        // test, nor the roi stages, which need it): its missing age is held against none of them.
        let text2 = text.replacingOccurrences(of: #""participants.tsv""#, with: #""participants-gap.tsv""#)
            .replacingOccurrences(of: #""missing_scans": []"#, with: #""missing_scans": ["sub-02_ses-baseline"]"#)
        let url = Self.root.appendingPathComponent("bad-missing.json")
        try text2.write(to: url, atomically: false, encoding: .utf8)
        let missing = try runPipe(["validate", url.path])
        XCTAssertEqual(missing.status, 2, missing.stderr)
        XCTAssertFalse(missing.stderr.contains("sub-02"), missing.stderr)
        XCTAssertTrue(missing.stderr.contains("sub-07 has 'forty'; expected a number"), missing.stderr)

        // A word in madrs_change_pct: improvement_baseline's covariate and responders_followup's
        // clinical column (both take anxious patients; sub-03 is one).
        let change = rows[0].firstIndex(of: "madrs_change_pct")!
        for i in rows.indices.dropFirst() where rows[i][0] == "sub-03" { rows[i][change] = "-80%" }
        try (rows.map { $0.joined(separator: "\t") }.joined(separator: "\n") + "\n")
            .write(to: Self.root.appendingPathComponent("participants-gap.tsv"), atomically: false, encoding: .utf8)
        let (words, _, _) = try validate(replacing: #""participants.tsv""#, with: #""participants-gap.tsv""#)
        for place in ["stages.improvement_baseline.covariates[0]", "stages.responders_followup.clinical[0]"] {
            XCTAssertTrue(words.stderr.contains(" \(place): in participants-gap.tsv's column madrs_change_pct, sub-03 has '-80%'; expected a number"),
                          "\(place): \(words.stderr)")
        }
    }

    /// A design that cannot be fitted on the subjects a stage can read fails before anything runs
    /// (the stage would stop after every scan was processed): a covariate constant among them, two
    /// collinear covariates, a single group level, a paired level with fewer than 3 subjects with
    /// both sessions. Each at its key, once.
    func testADesignThatCannotBeFittedOnItsSubjectsIsASpecError() throws {
        var rows = try String(contentsOf: Self.root.appendingPathComponent("participants.tsv"), encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        let age = rows[0].firstIndex(of: "age")!
        rows[0] += ["site", "age_months"]
        for i in rows.indices.dropFirst() { rows[i] += ["1", String(Int(rows[i][age])! * 12)] }
        try (rows.map { $0.joined(separator: "\t") }.joined(separator: "\n") + "\n")
            .write(to: Self.root.appendingPathComponent("participants-design.tsv"), atomically: false, encoding: .utf8)
        let original = try String(contentsOf: Self.spec, encoding: .utf8)
        func validate(_ edits: [(String, String)]) throws -> [String] {
            var text = original.replacingOccurrences(of: #""participants.tsv""#, with: #""participants-design.tsv""#)
            for (from, to) in edits {
                XCTAssertTrue(text.contains(from), from)
                text = text.replacingOccurrences(of: from, with: to)
            }
            let r = try self.validate(text: text, as: "bad-design.json").result
            XCTAssertEqual(r.status, edits.isEmpty ? 0 : 2, r.stderr)
            return r.stderr.split(separator: "\n").map(String.init)
        }
        XCTAssertEqual(try validate([]).filter { $0.contains("bad-design.json:") }, [])

        let lines = try validate([
            (#""covariates": ["age"], "contrasts": ["anxious > nonanxious"]"#, #""covariates": ["age", "site"], "contrasts": ["anxious > nonanxious"]"#),
            (#""covariates": ["madrs_change_pct", "age"]"#, #""covariates": ["madrs_change_pct", "age", "age_months"]"#),
        ])
        let problems = lines.filter { $0.contains("bad-design.json:") }
        XCTAssertEqual(problems.count, 2, lines.joined(separator: "\n"))
        XCTAssertTrue(problems.contains { $0.hasSuffix(" stages.anxiety_baseline.covariates[1]: site is 1 for each of the 9 subjects it can read "
                                                       + "(included, with a scan at baseline; QC can only remove more), so the design cannot estimate it: "
                                                       + "it is rank deficient: 4 columns (anxious, nonanxious, age, site) of rank 3 for 9 subjects; "
                                                       + "remove the covariate, or include subjects in whom it varies") }, problems.joined(separator: "\n"))
        XCTAssertTrue(problems.contains { $0.hasSuffix(" stages.improvement_baseline.covariates: the design cannot be fitted on the 6 subjects it can read "
                                                       + "(included, with a scan at baseline; QC can only remove more): it is rank deficient: "
                                                       + "4 columns (mean, madrs_change_pct, age, age_months) of rank 3 for 6 subjects") }, problems.joined(separator: "\n"))

        // sub-02 (an anxious responder) without a day-13 scan leaves two responders to pair; and
        // an anxiety test of the anxious alone has one level.
        let more = try validate([
            (#""missing_scans": []"#, #""missing_scans": ["sub-02_ses-day13"]"#),
            (#""covariates": ["age"], "contrasts": ["anxious > nonanxious"]"#, #""include": {"group": ["anxious"]}, "covariates": ["age"], "contrasts": ["anxious"]"#),
        ]).filter { $0.contains("bad-design.json:") }
        XCTAssertEqual(more.count, 2, more.joined(separator: "\n"))
        XCTAssertTrue(more.contains { $0.hasSuffix(" stages.responders_change.paired[0]: level 'responder' has 2 subjects with a scan at both baseline and day13; "
                                                   + "a paired test needs 3") }, more.joined(separator: "\n"))
        // A constant covariate of the longitudinal stage: its group × time design and both paired
        // tests would each fail; reported once.
        let once = try validate([(#""paired": ["responder", "nonresponder"], "contrasts""#, #""covariates": ["site"], "paired": ["responder", "nonresponder"], "contrasts""#)])
            .filter { $0.contains("bad-design.json:") }
        XCTAssertEqual(once.count, 1, once.joined(separator: "\n"))
        XCTAssertTrue(once.first?.contains(" stages.responders_change.covariates[0]: site is 1 for each of the 6 subjects it can read (included, with a scan at "
                                           + "baseline and day13; QC can only remove more), so the group × time design cannot estimate it") == true, once.joined(separator: "\n"))
        // Without contrasts, the paired tests' design, once.
        let paired = try validate([(#""paired": ["responder", "nonresponder"], "contrasts": ["responder > nonresponder"]"#, #""covariates": ["site"], "paired": ["responder", "nonresponder"]"#)])
            .filter { $0.contains("bad-design.json:") }
        XCTAssertEqual(paired.count, 1, paired.joined(separator: "\n"))
        XCTAssertTrue(paired.first?.contains(" stages.responders_change.covariates[0]: site is 1 for each of the 3 subjects of level 'responder' it can read") == true,
                      paired.joined(separator: "\n"))
        // missing_session: error, and sub-02 has no day-13 scan: named at the key, once.
        let strict = try validate([(#""missing_scans": []"#, #""missing_scans": ["sub-02_ses-day13"]"#),
                                   (#""paired": ["responder", "nonresponder"], "contrasts""#, #""missing_session": "error", "paired": ["all"], "contrasts""#)])
            .filter { $0.contains("bad-design.json:") }
        XCTAssertEqual(strict.map(keyed),
                       [#"responders_change.missing_session: is error, and sub-02 has no day13 scan; add the scans, or set "missing_session": "exclude" to leave such subjects out"#],
                       strict.joined(separator: "\n"))
        // A group test of one subject: the non-anxious non-responders.
        let one = try validate([(#""include": {"group": ["anxious"]},\#n      "covariates": ["madrs_change_pct", "age"]"#,
                                 #""include": {"group": ["nonanxious"], "responder": ["nonresponder"]},\#n      "covariates": ["madrs_change_pct", "age"]"#)])
            .filter { $0.contains("bad-design.json:") }
        XCTAssertEqual(one.map(keyed),
                       ["improvement_baseline.include: the stage can read only 1 subject (sub-07: included, with a scan at baseline); a group test needs 3"],
                       one.joined(separator: "\n"))
        // An roi prediction at a session the stage does not read.
        let typo = try validate([(#""predict": {"column": "responder", "positive": "responder"}"#, #""predict": {"column": "responder", "positive": "responder", "session": "day14"}"#)])
            .filter { $0.contains("bad-design.json:") }
        XCTAssertEqual(typo.map(keyed),
                       ["responders_followup.predict.session: 'day14' is not a session the stage reads; expected 'baseline' or 'day13' (pre or post)"], typo.joined(separator: "\n"))
        let predict = try validate([(#""seed": "LBAleft", "pre": "baseline", "post": "day13",\#n      "include": {"group": ["anxious"]}, "group": "responder",\#n      "regions""#,
                                     #""seed": "LBAleft", "pre": "baseline",\#n      "include": {"group": ["anxious"]}, "group": "responder",\#n      "regions""#),
                                    (#""predict": {"column": "responder", "positive": "responder"}"#, #""predict": {"column": "responder", "positive": "responder", "session": "day13"}"#)])
            .filter { $0.contains("bad-design.json:") }
        XCTAssertEqual(predict.map(keyed),
                       ["responders_followup.predict.session: 'day13' is not a session the stage reads; expected 'baseline' (pre or post)"], predict.joined(separator: "\n"))

        XCTAssertTrue(more.contains { $0.hasSuffix(" stages.anxiety_baseline.group: the design cannot be fitted on the 6 subjects it can read "
                                                   + "(included, with a scan at baseline; QC can only remove more): only level anxious has subjects in this "
                                                   + "selection; empty: nonanxious. A group comparison needs at least two non-empty levels") }, more.joined(separator: "\n"))
    }

    /// Group-level mistakes that would stop a stage only after every scan was processed (or after
    /// its permutations): maps read from a stage that is not a connectivity stage, an include that
    /// no row passes, a contrast naming a level no readable subject holds, and a misspelt
    /// interaction. Each is one spec error at its key.
    func testGroupStageMistakesThatWouldStopItLateAreSpecErrors() throws {
        let original = try String(contentsOf: Self.spec, encoding: .utf8)
        func problems(_ edits: [(String, String)]) throws -> [String] {
            var text = original
            for (from, to) in edits {
                XCTAssertEqual(text.components(separatedBy: from).count, 2, "once: \(from)")
                text = text.replacingOccurrences(of: from, with: to)
            }
            let (r, problems) = try validate(text: text, as: "bad-late.json")
            XCTAssertEqual(r.status, problems.isEmpty ? 0 : 2, r.stderr)
            return problems.map(keyed)
        }
        // Its maps are the first stage's in from.
        XCTAssertEqual(try problems([(#""responders_baseline": {\#n      "kind": "group", "from": "connectivity""#,
                                      #""responders_baseline": {\#n      "kind": "group", "from": ["clean", "connectivity"]"#)]), [
            "responders_baseline.from: the stage reads its maps from the first stage in from, and clean is a clean stage, not a connectivity stage: list connectivity first",
        ])
        // Non-anxious women who did not respond: each value occurs, never together.
        XCTAssertEqual(try problems([(#""include": {"group": ["anxious"]},\#n      "covariates": ["madrs_change_pct", "age"]"#,
                                      #""include": {"group": ["nonanxious"], "sex": ["F"], "responder": ["nonresponder"]},\#n      "covariates": ["madrs_change_pct", "age"]"#)]), [
            "improvement_baseline.include: the stage can read no subject: no subject of the cohort is included and has a scan at baseline "
                + "(no row of participants.tsv passes every include filter)",
        ])
        // A third arm whose subjects have no baseline scan: the design has two columns of arm.
        var rows = try String(contentsOf: Self.root.appendingPathComponent("participants.tsv"), encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        rows[0].append("arm")
        for i in rows.indices.dropFirst() { rows[i].append(rows[i][1] == "nonanxious" ? "control" : rows[i][2] == "responder" ? "ketamine" : "placebo") }
        try (rows.map { $0.joined(separator: "\t") }.joined(separator: "\n") + "\n")
            .write(to: Self.root.appendingPathComponent("participants-arm.tsv"), atomically: false, encoding: .utf8)
        let arm = try problems([
            (#""missing_scans": []"#, #""missing_scans": ["sub-06_ses-baseline", "sub-07_ses-baseline", "sub-13_ses-baseline"]"#),
            (#""anxiety_baseline": {\#n      "kind": "group", "from": "connectivity", "participants": "participants.tsv","#,
             #""anxiety_baseline": {\#n      "kind": "group", "from": "connectivity", "participants": "participants-arm.tsv","#),
            (#""group": "group", "covariates": ["age"], "contrasts": ["anxious > nonanxious"]"#,
             #""group": "arm", "covariates": ["age"], "contrasts": ["ketamine > control"]"#),
        ])
        XCTAssertTrue(arm.contains("anxiety_baseline.contrasts[0]: level 'control' of arm in \"ketamine > control\" has no subject the stage can read "
                                   + "(included, with a scan at baseline), so the design has no such column"), arm.joined(separator: "\n"))
        XCTAssertEqual(arm.filter { $0.hasPrefix("anxiety_baseline.") }.count, 1, arm.joined(separator: "\n"))
        // An roi stage refitting a cluster reads the group stage's connectivity stage.
        XCTAssertEqual(try problems([
            (#"      "roi_matrix": false\#n    },"#, #"      "roi_matrix": false\#n    },\#n    "connectivity_lba": {"kind": "connectivity", "from": "clean", "atlas": "atlases/amygdala_subregions_2mm.nii.gz", "atlas_labels": "atlases/amygdala_subregions.tsv", "seeds": [{"name": "LBAleft", "label": "LBA_left"}]},"#),
            (#""kind": "roi", "from": ["connectivity", "responders_baseline"]"#, #""kind": "roi", "from": ["connectivity_lba", "responders_baseline"]"#),
        ]), [
            "responders_followup.from: stage responders_baseline reads its maps from connectivity stage connectivity, and this stage from connectivity_lba: "
                + "read connectivity first, so that its clusters are refit without each subject on the maps it tested (or set leave_one_out to off)",
        ])
        // An interaction term's second part is the group column.
        XCTAssertEqual(try problems([(#""group": "group", "covariates": ["age"], "contrasts": ["anxious > nonanxious"]"#,
                                      #""group": "group", "covariates": ["age"], "interactions": ["age:grp"], "contrasts": ["anxious > nonanxious"]"#)]), [
            "anxiety_baseline.interactions[0]: 'age:grp': an interaction is written covariate:group, the second part the group column",
        ])
    }

    /// An atlas label or a mask seed that resampling to the data's 4 mm grid (nearest neighbour)
    /// loses fails before anything runs, once, with every run (each run's task would stop at it).
    func testASeedLostOnTheDataGridIsASpecError() throws {
        let atlases = Self.root.appendingPathComponent("atlases")
        let data = try NIfTIFile.read(atlases.appendingPathComponent("amygdala_subregions_2mm.nii.gz").path, as: Float.self)
        // A 2 mm grid on the data's: its voxel (2i, 2j, 2k) is the data's (i, j, k), and a voxel
        // with an odd index is the nearest of no data voxel.
        var rows = data.affine.rows
        for r in 0..<3 { for c in 0..<3 { rows[r][c] /= 2 } }
        let shape = data.shape.prefix(3).map { 2 * $0 }
        func image(_ voxels: [([Int], Float)]) -> NIfTIImage<Float> {
            var values = [Float](repeating: 0, count: shape.reduce(1, *))
            for (v, label) in voxels { values[v[0] + shape[0] * (v[1] + shape[1] * v[2])] = label }
            return NIfTIImage(shape: shape, affine: Affine(rows: rows), data: values)
        }
        // Labels 1-5: 4 x 4 x 4 blocks at even corners; label 6 (SFA_right) one voxel at odd indices.
        var voxels: [([Int], Float)] = []
        for label in 1...5 { for x in 0..<4 { for y in 0..<4 { for z in 0..<4 { voxels.append(([36 + 8 * label + x, 50 + y, 40 + z], Float(label))) } } } }
        voxels.append(([47, 55, 47], 6))
        try NIfTIFile.write(image(voxels), to: atlases.appendingPathComponent("fine_2mm.nii.gz").path)
        try "index\tname\n1\tLBA_left\n2\tLBA_right\n3\tCMA_left\n4\tCMA_right\n5\tSFA_left\n6\tSFA_right\n"
            .write(to: atlases.appendingPathComponent("fine.tsv"), atomically: false, encoding: .utf8)
        try NIfTIFile.write(image([([47, 56, 47], 1)]), to: atlases.appendingPathComponent("speck_2mm.nii.gz").path)

        let original = try String(contentsOf: Self.spec, encoding: .utf8)
        let text = original
            .replacingOccurrences(of: "atlases/amygdala_subregions_2mm.nii.gz", with: "atlases/fine_2mm.nii.gz")
            .replacingOccurrences(of: "atlases/amygdala_subregions.tsv", with: "atlases/fine.tsv")
            .replacingOccurrences(of: #"{"name": "SFAright", "label": "SFA_right"}"#,
                                  with: #"{"name": "SFAright", "label": "SFA_right"}, {"name": "speck", "mask": "atlases/speck_2mm.nii.gz"}"#)
        XCTAssertNotEqual(text, original)
        let (r, problems) = try validate(text: text, as: "bad-seeds.json")
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertEqual(problems.count, 2, r.stderr)
        let label = problems.first { $0.contains(" stages.connectivity.seeds[5].label: ") } ?? ""
        XCTAssertTrue(label.contains("atlas label 'SFA_right' (value 6 in atlases/fine_2mm.nii.gz) has no voxel on the data grid once resampled to it "
                                     + "(nearest neighbour): sub-01_ses-baseline's run ") && label.contains(" mm (46×55×46 at 4×4×4 mm, origin (")
                      && label.hasSuffix("; also for 17 other runs: sub-01_ses-day13, sub-02_ses-baseline, sub-02_ses-day13, sub-03_ses-baseline, "
                                         + "sub-03_ses-day13, sub-04_ses-baseline, sub-04_ses-day13, sub-06_ses-baseline and 9 more"), r.stderr)
        let mask = problems.first { $0.contains(" stages.connectivity.seeds[6].mask: ") } ?? ""
        XCTAssertTrue(mask.contains("mask atlases/speck_2mm.nii.gz has no positive voxel on the data grid once resampled to it (nearest neighbour)"), r.stderr)

        // The same labels on even voxels are found on the data grid: the spec validates.
        voxels[voxels.count - 1] = ([46, 56, 46], 6)
        try NIfTIFile.write(image(voxels), to: atlases.appendingPathComponent("fine_2mm.nii.gz").path)
        try NIfTIFile.write(image([([46, 56, 46], 1)]), to: atlases.appendingPathComponent("speck_2mm.nii.gz").path)
        let ok = try validate(text: text, as: "bad-seeds.json").result
        XCTAssertEqual(ok.status, 0, ok.stderr)

        // roi regions, on the grid of the first subject's baseline map: a sphere off the grid, a
        // mask lost on it, and a label with no atlas for it (the stage has none).
        try NIfTIFile.write(image([([47, 56, 47], 1)]), to: atlases.appendingPathComponent("speck_odd.nii.gz").path)
        // An roi mask counts its non-zero voxels (a seed mask its positive ones): -1 is found.
        try NIfTIFile.write(image([([46, 56, 46], -1)]), to: atlases.appendingPathComponent("speck_negative.nii.gz").path)
        let regions = #""regions": [{"name": "baselineCluster", "cluster": 1}],"#
        XCTAssertEqual(text.components(separatedBy: regions).count, 3, "two roi stages")
        let (roi, roiProblems) = try validate(text: text.replacingOccurrences(of: "\"group\": \"responder\",\n      " + regions,
                                  with: "\"group\": \"responder\",\n      " + #""regions": [{"name": "baselineCluster", "cluster": 1}, {"name": "far", "sphere": [0, 0, 500], "radius": 5}, "#
                                    + #"{"name": "lab", "label": "SFA_right"}, {"name": "speckle", "mask": "atlases/speck_odd.nii.gz"}, "#
                                    + #"{"name": "negative", "mask": "atlases/speck_negative.nii.gz"}],"#), as: "bad-seeds.json")
        XCTAssertEqual(roi.status, 2, roi.stderr)
        let found = roiProblems.map(keyed)
        XCTAssertEqual(found.count, 3, roi.stderr)
        XCTAssertTrue(found.contains { $0.hasPrefix("responders_followup.regions[1].sphere: no voxel of the data grid lies within 5 mm of (0, 0, 500): "
                                                    + "sub-01_ses-baseline's run ") && $0.hasSuffix("; check the coordinates (world mm, in the run's space)") }, roi.stderr)
        XCTAssertTrue(found.contains("responders_followup.regions: regions name atlas labels but the stage has no atlas: set atlas and atlas_labels, "
                                     + "or read a synth_cohort stage"), roi.stderr)
        XCTAssertTrue(found.contains { $0.hasPrefix("responders_followup.regions[3].mask: mask atlases/speck_odd.nii.gz has no non-zero voxel") }, roi.stderr)

        // Resampling, the regions are drawn on the grid of the first map QC keeps, one of the
        // compared runs' grids: a region on none of them is reported the same.
        let (resampled, resampledProblems) = try validate(text: text.replacingOccurrences(of: "\"group\": \"responder\",\n      " + regions,
                                  with: "\"group\": \"responder\", \"resample\": \"linear\",\n      " + #""regions": [{"name": "baselineCluster", "cluster": 1}, {"name": "far", "sphere": [0, 0, 500], "radius": 5}, "#
                                    + #"{"name": "lab", "label": "SFA_right"}, {"name": "speckle", "mask": "atlases/speck_odd.nii.gz"}, "#
                                    + #"{"name": "negative", "mask": "atlases/speck_negative.nii.gz"}],"#), as: "bad-seeds.json")
        XCTAssertEqual(resampled.status, 2, resampled.stderr)
        // The same problems, each naming every compared run's grid (one here) that lacks the region.
        func head(_ problem: String) -> String { problem.components(separatedBy: " spans ").first! }
        XCTAssertEqual(resampledProblems.map { head(keyed($0)) }, found.map(head), resampled.stderr)
        XCTAssertTrue(resampledProblems.contains { $0.contains("regions[1].sphere: ") && $0.contains("; also for 11 other runs: ") }, resampled.stderr)
    }

    /// A t contrast whose weights cancel, and an F test whose contrasts are not independent (its
    /// contrast matrix rank deficient), stopped the group stage after its permutations: both are
    /// named at their keys; an F test of independent contrasts is not.
    func testAnEmptyContrastAndARankDeficientFTestAreSpecErrors() throws {
        let contrasts = #""contrasts": ["anxious > nonanxious"]"#
        let text = try String(contentsOf: Self.spec, encoding: .utf8)
        XCTAssertEqual(text.components(separatedBy: contrasts).count, 2)
        let (r, problems) = try validate(text: text.replacingOccurrences(of: contrasts, with: #""contrasts": ["anxious > nonanxious", "0.5*anxious - 0.5*anxious"], "#
            + #""f_tests": [["anxious - nonanxious", "age"], ["anxious - nonanxious", "age", "2*age - 2*nonanxious + 2*anxious"], ["age", "0*age"]]"#),
            as: "contrasts.json")
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertEqual(problems.map(keyed), [
            #"anxiety_baseline.contrasts[1]: "0.5*anxious - 0.5*anxious" is empty: its weights cancel on every column; a contrast needs a non-zero weight"#,
            #"anxiety_baseline.f_tests[1][2]: "2*age - 2*nonanxious + 2*anxious" is a combination of the test's contrasts before it "#
                + #"("anxious - nonanxious", "age"), so the F contrast matrix is rank deficient; remove it (2 independent contrasts span the same test)"#,
            #"anxiety_baseline.f_tests[2][1]: "0*age" is empty: its weights cancel on every column"#,
        ], r.stderr)
    }

    /// Every atlas a stage sets is read as its task reads it, labels named or not: one resampled
    /// with interpolation, a 4-D (probabilistic) one and a label table with a bad line stopped
    /// every task that read them, after the work before; each is named at its key, once.
    func testAnAtlasThatIsNotALabelImageIsASpecError() throws {
        let atlases = Self.root.appendingPathComponent("atlases")
        let atlas = try NIfTIFile.read(atlases.appendingPathComponent("amygdala_subregions_2mm.nii.gz").path, as: Float.self)
        let first = try XCTUnwrap(atlas.data.firstIndex { $0 > 0 })
        var interpolated = atlas.data
        interpolated[first] += 0.25
        try NIfTIFile.write(NIfTIImage(shape: atlas.shape, affine: atlas.affine, data: interpolated),
                            to: atlases.appendingPathComponent("interpolated.nii.gz").path)
        try NIfTIFile.write(NIfTIImage(shape: atlas.shape + [2], affine: atlas.affine, data: atlas.data + atlas.data),
                            to: atlases.appendingPathComponent("probabilistic.nii.gz").path)
        try "index\tname\n1\tLBA_left\nx\ty\n".write(to: atlases.appendingPathComponent("broken.tsv"), atomically: false, encoding: .utf8)
        var text = try String(contentsOf: Self.spec, encoding: .utf8)
        for (from, to) in [(#""atlas": "atlases/amygdala_subregions_2mm.nii.gz""#, #""atlas": "atlases/interpolated.nii.gz""#),
                           (#""atlas_labels": "atlases/amygdala_subregions.tsv""#, #""atlas_labels": "atlases/broken.tsv""#)] {
            XCTAssertEqual(text.components(separatedBy: from).count, 2, from)
            text = text.replacingOccurrences(of: from, with: to)
        }
        let peaks = #""atlas": "atlases/peak_labels_2mm.nii.gz""#
        let at = try XCTUnwrap(text.range(of: peaks))
        text.replaceSubrange(at, with: #""atlas": "atlases/probabilistic.nii.gz""#)
        let (r, problems) = try validate(text: text, as: "atlases.json")
        XCTAssertEqual(r.status, 2, r.stderr)
        let found = problems.map(keyed)
        let nx = atlas.shape[0], ny = atlas.shape[1]
        XCTAssertEqual(found.sorted(), [
            "connectivity.atlas: atlases/interpolated.nii.gz: voxel (\(first % nx), \(first / nx % ny), \(first / (nx * ny))) holds "
                + "\(atlas.data[first] + 0.25); a label image holds whole numbers in 0...2147483647 "
                + "(was it resampled with interpolation? resample a label image by nearest neighbour)",
            "connectivity.atlas_labels: atlases/broken.tsv: line 3: expected an index and a name",
            "responders_baseline.atlas: atlases/probabilistic.nii.gz: dim: an atlas must be a 3-D label image, got [\(atlas.shape.map(String.init).joined(separator: ", ")), 2]",
        ], r.stderr)
    }

    /// A BOLD file cut short (a download or copy interrupted) stopped its clean task part way
    /// through the cleaning: it is named before anything runs, from its gzip trailer, read whole
    /// to be sure. A file of several gzip members (whose last trailer counts only its own) is
    /// read whole too and passes; more than four such files are a data set written so, left to
    /// run time and listed as checked later. A 3-D BOLD file is named once.
    func testABOLDFileCutShortIsASpecErrorAndOneOfSeveralGzipMembersIsNot() throws {
        let fm = FileManager.default
        let bolds = try fm.subpathsOfDirectory(atPath: Self.root.appendingPathComponent("derivatives/fmriprep").path)
            .filter { $0.hasSuffix("_desc-preproc_bold.nii.gz") }.sorted()
            .map { Self.root.appendingPathComponent("derivatives/fmriprep").appendingPathComponent($0) }
        XCTAssertEqual(bolds.count, 18)
        var originals: [URL: Data] = [:]
        defer { for (url, data) in originals { try? data.write(to: url) } }
        for url in bolds { originals[url] = try Data(contentsOf: url) }
        // sub-02's baseline run cut short.
        let cut = try XCTUnwrap(bolds.first { $0.lastPathComponent.hasPrefix("sub-02_ses-baseline") })
        try originals[cut]!.prefix(originals[cut]!.count / 2).write(to: cut)
        // Two runs in two gzip members each: valid, their trailers count the second member only.
        func split(_ url: URL) throws {
            let plain = Self.root.appendingPathComponent("plain.nii").path
            XCTAssertEqual(try runShell("gzip -dc '\(url.path)' > '\(plain)' && (head -c 100000 '\(plain)' | gzip -1; tail -c +100001 '\(plain)' | gzip -1) > '\(url.path)' && rm '\(plain)'"), 0)
        }
        // sub-06's day-13 run a single 3-D volume.
        let flat = try XCTUnwrap(bolds.first { $0.lastPathComponent.hasPrefix("sub-06_ses-day13") })
        let series = try NIfTIFile.read(flat.path, as: Float.self)
        let volume = series.shape.prefix(3).reduce(1, *)
        try NIfTIFile.write(NIfTIImage(shape: Array(series.shape.prefix(3)), affine: series.affine, data: Array(series.data.prefix(volume))), to: flat.path)
        let multi = bolds.filter { $0 != cut && $0 != flat }
        for url in multi.prefix(2) { try split(url) }
        var r = try runPipe(["validate", Self.spec.path])
        XCTAssertEqual(r.status, 2, r.stderr)
        var lines = r.stderr.split(separator: "\n").filter { $0.contains("ketamine-amygdala.json:") }
        XCTAssertEqual(lines.count, 2, "the 3-D run's confounds are not compared with it: \(r.stderr)")
        XCTAssertTrue(lines.contains { $0.hasSuffix("stages.clean.bold: the BOLD image is not a 4-D series of more than one volume in sub-06_ses-day13 "
                                                    + "(derivatives/fmriprep/sub-06/ses-day13/func/sub-06_ses-day13_task-rest_space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz: "
                                                    + "is a 3-D image; expected a 4-D BOLD series with more than one volume)" + Self.leaveOutOne) }, r.stderr)
        let line = String(lines.first { $0.contains("holds less") } ?? "")
        XCTAssertTrue(line.contains("stages.clean.bold: the BOLD file holds less than its header declares, or is corrupt, so its clean task would stop "
                                    + "in sub-02_ses-baseline (derivatives/fmriprep/sub-02/ses-baseline/func/"
                                    + "sub-02_ses-baseline_task-rest_space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz: gzip stream ends early after ")
                      && line.hasSuffix(" decompressed bytes (truncated download?))" + Self.leaveOutOne), r.stderr)
        XCTAssertFalse(r.stdout.contains("gzip trailer") || r.stderr.contains("gzip trailer"), "two such files are read whole: \(r.stderr)")

        // Restored, and six runs in several members: more than four such files are a data set
        // written so, and left to run time, all of them.
        try originals[cut]!.write(to: cut)
        try originals[flat]!.write(to: flat)
        for url in multi.dropFirst(2).prefix(4) { try split(url) }
        r = try runPipe(["validate", Self.spec.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        lines = (r.stdout + r.stderr).split(separator: "\n").filter { $0.contains("gzip trailer") }
        XCTAssertEqual(lines.count, 1, r.stdout + r.stderr)
        XCTAssertTrue(lines.first?.contains("clean: whether the 6 BOLD files whose gzip trailer does not give their length (several gzip members?) "
                                            + "hold all their volumes (") ?? false, r.stdout + r.stderr)
    }

    /// A confounds file with a line short of a cell stopped its run's clean task (the reader
    /// refuses it); the survey counts every line's cells with its rows, so it is named now, in
    /// any run, once, with the line.
    func testAConfoundsLineShortOfACellIsASpecError() throws {
        let url = Self.root.appendingPathComponent("derivatives/fmriprep/sub-09/ses-day13/func/sub-09_ses-day13_task-rest_desc-confounds_timeseries.tsv")
        let original = try String(contentsOf: url, encoding: .utf8)
        defer { try? original.write(to: url, atomically: false, encoding: .utf8) }
        var lines = original.components(separatedBy: "\n")
        let columns = lines[0].components(separatedBy: "\t").count
        lines[30] = lines[30].components(separatedBy: "\t").dropLast().joined(separator: "\t")
        try lines.joined(separator: "\n").write(to: url, atomically: false, encoding: .utf8)
        let r = try runPipe(["validate", Self.spec.path])
        XCTAssertEqual(r.status, 2, r.stderr)
        let problems = r.stderr.split(separator: "\n").filter { $0.contains("ketamine-amygdala.json:") }
        XCTAssertEqual(problems.count, 1, r.stderr)
        XCTAssertTrue(problems.first?.hasSuffix("stages.clean.confounds: the confounds file has a line whose cells are not one per column, so cleaning "
                                                + "cannot read it in sub-09_ses-day13 (derivatives/fmriprep/sub-09/ses-day13/func/"
                                                + "sub-09_ses-day13_task-rest_desc-confounds_timeseries.tsv: line 31 has \(columns - 1) cells; "
                                                + "the header has \(columns) columns)" + Self.leaveOutOne) ?? false, r.stderr)
    }

    /// A confounds cell that is neither a number nor n/a (the reader refuses the file), and n/a
    /// after the first number in a column the strategy uses (only leading n/a are filled), each
    /// stopped its run's clean task; the survey classifies every cell, so both are named now, in
    /// any run, once each, with the line and column. An unused column's n/a is no problem.
    func testConfoundsCellsCleaningCannotUseAreSpecErrors() throws {
        func confounds(_ subject: String, _ session: String) -> URL {
            Self.root.appendingPathComponent("derivatives/fmriprep/sub-\(subject)/ses-\(session)/func/sub-\(subject)_ses-\(session)_task-rest_desc-confounds_timeseries.tsv")
        }
        let files = [confounds("07", "baseline"), confounds("09", "day13"), confounds("12", "day13"), confounds("13", "baseline")]
        let originals = try files.map { try String(contentsOf: $0, encoding: .utf8) }
        defer { for (url, text) in zip(files, originals) { try? text.write(to: url, atomically: false, encoding: .utf8) } }
        func edit(_ k: Int, line: Int, column: String, to value: String) throws {
            var lines = originals[k].components(separatedBy: "\n")
            let names = lines[0].components(separatedBy: "\t")
            var cells = lines[line - 1].components(separatedBy: "\t")
            cells[try XCTUnwrap(names.firstIndex(of: column), column)] = value
            lines[line - 1] = cells.joined(separator: "\t")
            try lines.joined(separator: "\n").write(to: files[k], atomically: false, encoding: .utf8)
        }
        try edit(0, line: 40, column: "csf", to: "0.12.5")
        try edit(1, line: 101, column: "trans_x", to: "n/a")
        try edit(2, line: 9, column: "white_matter", to: "n/a")
        // A column no strategy term selects: not a problem.
        let names = originals[3].components(separatedBy: "\n")[0].components(separatedBy: "\t")
        let unused = try XCTUnwrap(names.first { !["csf", "white_matter", "framewise_displacement", "std_dvars"].contains($0) && !$0.hasPrefix("trans") && !$0.hasPrefix("rot") })
        try edit(3, line: 50, column: unused, to: "n/a")
        let r = try runPipe(["validate", Self.spec.path])
        XCTAssertEqual(r.status, 2, r.stderr)
        let problems = r.stderr.split(separator: "\n").filter { $0.contains("ketamine-amygdala.json:") }
        XCTAssertEqual(problems.count, 2, r.stderr)
        XCTAssertTrue(problems.contains { $0.hasSuffix("stages.clean.confounds: the confounds file holds a cell that is neither a number nor n/a, so cleaning "
                                                       + "cannot read it in sub-07_ses-baseline (derivatives/fmriprep/sub-07/ses-baseline/func/"
                                                       + "sub-07_ses-baseline_task-rest_desc-confounds_timeseries.tsv: line 40, column csf: '0.12.5')"
                                                       + Self.leaveOutOne) }, r.stderr)
        let unusable = String(problems.first { $0.contains("only leading missing values") } ?? "")
        XCTAssertTrue(unusable.contains("stages.clean.confounds: a confounds column cleaning uses has a missing value (n/a, an empty cell or NaN) after its "
                                        + "first number (only leading missing values are filled) in 2 runs"), r.stderr)
        XCTAssertTrue(unusable.contains("in 2 runs: sub-09_ses-day13, sub-12_ses-day13 (the first: derivatives/fmriprep/sub-09/ses-day13/func/"
                                        + "sub-09_ses-day13_task-rest_desc-confounds_timeseries.tsv: column trans_x, line 101)"), r.stderr)
    }

    /// Files named by bold_pattern take their confounds from confounds_pattern alone: without it,
    /// the confound strategy and scrubbing stopped every run's clean task. Named at bold_pattern;
    /// with confounds_pattern set, the spec validates.
    func testBoldPatternWithoutConfoundsPatternIsASpecErrorWhenConfoundsAreNeeded() throws {
        let folder = "derivatives/fmriprep/sub-{subject}/ses-{session}/func/sub-{subject}_ses-{session}_task-rest_"
        let original = #""fmriprep": "derivatives/fmriprep", "space": "MNI152NLin2009cAsym", "task": "rest","#
        let patterns = #""task": "rest", "bold_pattern": ""# + folder + #"space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz", "#
            + #""sidecar_pattern": ""# + folder + #"space-MNI152NLin2009cAsym_desc-preproc_bold.json", "#
            + #""mask_pattern": ""# + folder + #"space-MNI152NLin2009cAsym_desc-brain_mask.nii.gz","#
        let text = try String(contentsOf: Self.spec, encoding: .utf8)
        XCTAssertTrue(text.contains(original))
        let (r, problems) = try validate(text: text.replacingOccurrences(of: original, with: patterns), as: "patterns.json")
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertEqual(problems.map(keyed), [
            "clean.bold_pattern: with bold_pattern, the runs' confounds files come from confounds_pattern, which is not set, and the confound strategy "
                + "and scrub_fd and scrub_std_dvars need them: set confounds_pattern "
                + #"(e.g. "sub-{subject}/ses-{session}/func/sub-{subject}_ses-{session}_task-{task}_desc-confounds_timeseries.tsv")"#,
        ], r.stderr)
        let withConfounds = patterns + #" "confounds_pattern": ""# + folder + #"desc-confounds_timeseries.tsv","#
        let ok = try validate(text: text.replacingOccurrences(of: original, with: withConfounds), as: "patterns.json")
        XCTAssertEqual(ok.result.status, 0, ok.result.stderr)
    }

    /// A seed mask that cannot be read stopped every connectivity task, and a brain mask that
    /// cannot be read its run's clean task: both are named before anything runs, the brain mask
    /// by the clean stage's survey of its runs (connectivity stage or not), once, with its run;
    /// so is a report background that is not a NIfTI image, or is cut short.
    func testAnUnreadableSeedMaskOrBrainMaskIsASpecError() throws {
        let func_ = Self.root.appendingPathComponent("derivatives/fmriprep/sub-06/ses-baseline/func")
        let mask = func_.appendingPathComponent("sub-06_ses-baseline_task-rest_space-MNI152NLin2009cAsym_desc-brain_mask.nii.gz")
        let original = try Data(contentsOf: mask)
        defer { try? original.write(to: mask) }
        try original.prefix(100).write(to: mask)  // a download cut short
        try Data("not a nifti".utf8).write(to: Self.root.appendingPathComponent("atlases/junk.nii.gz"))
        let (r, _, _) = try validate(replacing: #"{"name": "SFAright", "label": "SFA_right"}"#,
                                     with: #"{"name": "SFAright", "label": "SFA_right"}, {"name": "junk", "mask": "atlases/junk.nii.gz"}"#)
        XCTAssertEqual(r.status, 2, r.stderr)
        let problems = r.stderr.split(separator: "\n").filter { $0.contains("bad.json:") }.map(keyed)
        // The report's background template, which the study's last task read.
        let report = #""kind": "report", "#
        let withBackground = try String(contentsOf: Self.spec, encoding: .utf8)
            .replacingOccurrences(of: report, with: report + #""background": "atlases/junk.nii.gz", "#)
        XCTAssertEqual(try validate(text: withBackground, as: "background.json").problems.map(keyed)
                        .filter { $0.hasPrefix("report.") },
                       ["report.background: atlases/junk.nii.gz cannot be read as a NIfTI image: not a gzip file (expected magic bytes 1f 8b); "
                        + "is it an uncompressed .nii named .gz?"])
        // A template whose header reads but whose data stops short: its gzip trailer tells.
        let atlas = try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("atlases").path)
            .filter { $0.hasSuffix("_2mm.nii.gz") }.sorted()[0]
        let whole = try Data(contentsOf: Self.root.appendingPathComponent("atlases/\(atlas)"))
        try whole.prefix(whole.count * 3 / 5).write(to: Self.root.appendingPathComponent("atlases/cut.nii.gz"))
        let cut = try validate(text: withBackground.replacingOccurrences(of: "atlases/junk.nii.gz", with: "atlases/cut.nii.gz"), as: "cut.json")
            .problems.map(keyed).filter { $0.hasPrefix("report.") }
        XCTAssertEqual(cut.count, 1, "\(cut)")
        XCTAssertTrue(cut.first?.hasPrefix("report.background: atlases/cut.nii.gz cannot be read as a NIfTI image: gzip stream ends early after ") == true, "\(cut)")
        // An atlas of more than 2^28 voxels is read by its task, not the check, but a file cut
        // short is still named now, from its gzip trailer: the 2 mm atlas with its header saying
        // 1024 x 1024 x 300 voxels (a lying or huge header allocates nothing either way).
        let plain = try gzipOutput(["-dc"], Self.root.appendingPathComponent("atlases/amygdala_subregions_2mm.nii.gz"))
        var header = [UInt8](plain)
        let shape = [1024, 1024, 300]
        for (i, d) in shape.enumerated() { header[42 + 2 * i] = UInt8(d & 0xFF); header[43 + 2 * i] = UInt8(d >> 8) }
        header.replaceSubrange(70..<74, with: [2, 0, 8, 0])  // datatype uint8, bitpix 8
        XCTAssertEqual(Float(bitPattern: UInt32(header[108]) | UInt32(header[109]) << 8 | UInt32(header[110]) << 16 | UInt32(header[111]) << 24), 352,
                       "vox_offset")
        let large = Self.root.appendingPathComponent("atlases/large.nii")
        // The header, then every voxel (zeros), compressed: a whole file of 300 KB.
        try Data(header.prefix(352)).write(to: large)
        let zeros = FileHandle(forWritingAtPath: large.path)!
        zeros.seekToEndOfFile()
        let slab = Data(count: 1024 * 1024)
        for _ in 0..<shape[2] { zeros.write(slab) }
        try zeros.close()
        defer { try? FileManager.default.removeItem(at: large) }
        let packed = try gzipOutput(["-c", "-1"], large)
        try packed.prefix(packed.count * 3 / 5).write(to: Self.root.appendingPathComponent("atlases/large-cut.nii.gz"))
        let atlasText = try String(contentsOf: Self.spec, encoding: .utf8)
            .replacingOccurrences(of: #""atlas": "atlases/amygdala_subregions_2mm.nii.gz""#, with: #""atlas": "atlases/large-cut.nii.gz""#)
        let largeCut = try validate(text: atlasText, as: "large.json").problems.map(keyed).filter { $0.contains("large-cut") }
        XCTAssertEqual(largeCut.count, 1, "\(largeCut)")
        XCTAssertTrue(largeCut.first?.hasPrefix("connectivity.atlas: atlases/large-cut.nii.gz: cannot be read as a NIfTI label image: gzip stream ends early after ") == true,
                      "\(largeCut)")
        XCTAssertEqual(problems.sorted(), [
            "clean.mask: the brain mask cannot be read, so cleaning would stop in sub-06_ses-baseline (derivatives/fmriprep/sub-06/ses-baseline/func/"
                + "sub-06_ses-baseline_task-rest_space-MNI152NLin2009cAsym_desc-brain_mask.nii.gz: gzip stream ends early after "
                + "78 decompressed bytes (truncated download?))" + Self.leaveOutOne,
            "connectivity.seeds[6].mask: mask atlases/junk.nii.gz cannot be read: not a gzip file (expected magic bytes 1f 8b); "
                + "is it an uncompressed .nii named .gz?",
        ], r.stderr)
    }

    /// Two mistakes that stopped a stage only after the work before it: an roi cluster of a
    /// contrast its group stage does not test (after the group stage's permutations), and a
    /// stage's own participants table without a row for a subject whose maps it reads (after
    /// every scan was processed).
    func testAContrastNotTestedAndASubjectMissingFromAStagesTableAreSpecErrors() throws {
        let participants = try String(contentsOf: Self.root.appendingPathComponent("participants.tsv"), encoding: .utf8)
        let lines = participants.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.filter { $0.hasPrefix("sub-03\t") }.count, 1)
        try lines.filter { !$0.hasPrefix("sub-03\t") }.joined(separator: "\n")
            .write(to: Self.root.appendingPathComponent("clinical.tsv"), atomically: false, encoding: .utf8)
        var text = try String(contentsOf: Self.spec, encoding: .utf8)
        let table = #""kind": "group", "from": "connectivity", "participants": "participants.tsv""#
        XCTAssertEqual(text.components(separatedBy: table).count, 4, "three group stages")
        text = text.replacingOccurrences(of: table, with: #""kind": "group", "from": "connectivity", "participants": "clinical.tsv""#)
        let region = #""regions": [{"name": "baselineCluster", "cluster": 1}],"#
        text = text.replacingOccurrences(of: region, with: #""regions": [{"name": "baselineCluster", "cluster": 1, "contrast": "responder < nonresponder"}],"#)
        let (r, problems) = try validate(text: text, as: "late.json")
        XCTAssertEqual(r.status, 2, r.stderr)
        let found = problems.map(keyed)
        XCTAssertEqual(found.count, 5, r.stderr)
        for stage in ["responders_baseline", "anxiety_baseline", "improvement_baseline"] {
            XCTAssertTrue(found.contains("\(stage).participants: clinical.tsv has no row for 1 of the cohort's subjects whose maps the stage reads: sub-03; "
                                         + "the stage would stop at the first of them after every scan was processed: add their rows, or leave them out of the cohort"),
                          r.stderr)
        }
        XCTAssertTrue(found.contains("responders_followup.regions[0].contrast: stage responders_baseline tests no contrast 'responder < nonresponder' "
                                     + "(did you mean 'responder > nonresponder'?); its contrasts: 'responder > nonresponder'"), r.stderr)
        XCTAssertTrue(found.contains("anxiety_followup.regions[0].contrast: stage anxiety_baseline tests no contrast 'responder < nonresponder'; "
                                     + "its contrasts: 'anxious > nonanxious'"), r.stderr)
    }

    /// A seed on the data grid but outside a run's brain mask would stop that run's connectivity
    /// task after the run was cleaned (cleaning keeps only the mask's voxels): each such seed is
    /// named before anything runs, once, with the runs it misses; a stage that masks with no mask
    /// has no such problem.
    func testASeedOutsideARunsBrainMaskIsASpecError() throws {
        let fm = FileManager.default
        let masks = try fm.subpathsOfDirectory(atPath: Self.root.appendingPathComponent("derivatives/fmriprep").path)
            .filter { $0.hasSuffix("_desc-brain_mask.nii.gz") }.sorted()
        XCTAssertEqual(masks.count, 18, "9 subjects x 2 sessions")
        // One run's brain mask loses the voxels of atlas label 1 (LBA_left, seeds[0]).
        let path = Self.root.appendingPathComponent("derivatives/fmriprep").appendingPathComponent(
            masks.first { $0.contains("sub-04_ses-day13") }!).path
        let original = try Data(contentsOf: URL(fileURLWithPath: path))
        defer { try? original.write(to: URL(fileURLWithPath: path)) }
        let mask = try NIfTIFile.read(path, as: Float.self)
        let atlas = try NIfTIFile.read(Self.root.appendingPathComponent("atlases/amygdala_subregions_2mm.nii.gz").path, as: Float.self)
        XCTAssertEqual(mask.shape, atlas.shape, "the synthetic atlas is on the runs' grid")
        let label = atlas.data.indices.filter { atlas.data[$0] == 1 }
        XCTAssertFalse(label.isEmpty)
        XCTAssertTrue(label.contains { mask.data[$0] > 0 }, "the label is in the brain to begin with")
        var cut = mask.data
        for v in label { cut[v] = 0 }
        try NIfTIFile.write(NIfTIImage(shape: mask.shape, affine: mask.affine, data: cut), to: path)

        // A sphere in a corner of the grid, on it but outside every brain mask.
        let corner = #"{"name": "SFAright", "label": "SFA_right"}, {"name": "corner", "sphere": [-80, -100, -60], "radius": 6}"#
        let text = try String(contentsOf: Self.spec, encoding: .utf8).replacingOccurrences(of: #"{"name": "SFAright", "label": "SFA_right"}"#, with: corner)
        let (r, problems) = try validate(text: text, as: "outside-mask.json")
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertEqual(problems.count, 2, r.stderr)
        let lba = problems.first { $0.contains(" stages.connectivity.seeds[0].label: ") } ?? ""
        XCTAssertTrue(lba.hasSuffix("the atlas label 'LBA_left' (value 1 in atlases/amygdala_subregions_2mm.nii.gz) has no voxel inside the brain mask "
                                    + "of 1 of the 18 runs: sub-04_ses-day13's derivatives/fmriprep/sub-04/ses-day13/func/"
                                    + "sub-04_ses-day13_task-rest_space-MNI152NLin2009cAsym_desc-brain_mask.nii.gz: cleaning keeps only the mask's voxels, "
                                    + "so that run's connectivity task would stop"), r.stderr)
        let sphere = problems.first { $0.contains(" stages.connectivity.seeds[6].sphere: ") } ?? ""
        XCTAssertTrue(sphere.hasSuffix("the sphere of 6 mm at (-80, -100, -60) has no voxel inside any run's brain mask (18 runs; the first: "
                                       + "sub-01_ses-baseline's derivatives/fmriprep/sub-01/ses-baseline/func/"
                                       + "sub-01_ses-baseline_task-rest_space-MNI152NLin2009cAsym_desc-brain_mask.nii.gz): cleaning keeps only the mask's voxels, "
                                       + "so every connectivity task would stop; check the coordinates (world mm, in the run's space)"), r.stderr)

        // Masked with no mask, every voxel of the grid is kept: neither seed misses a run.
        XCTAssertTrue(text.contains(#""mask": "brain""#))
        let unmasked = try validate(text: text.replacingOccurrences(of: #""mask": "brain""#, with: #""mask": "none""#), as: "outside-mask.json")
        XCTAssertEqual(unmasked.problems, [], unmasked.result.stderr)
        // The mask restored, only the corner sphere misses.
        try original.write(to: URL(fileURLWithPath: path))
        let restored = try validate(text: text, as: "outside-mask.json").problems
        XCTAssertEqual(restored.count, 1, restored.joined(separator: "\n"))
        XCTAssertTrue(restored.first?.contains("seeds[6].sphere: ") ?? false, restored.joined(separator: "\n"))
        // A threshold above every mask value leaves each run no voxel: cleaning stops, which is
        // the one problem named (at the clean stage), not each seed.
        let high = try validate(text: text.replacingOccurrences(of: #""mask": "brain""#, with: #""mask": "brain", "mask_threshold": 2"#), as: "outside-mask.json")
        XCTAssertEqual(high.problems.map(keyed), [
            "clean.mask: the brain masks of 18 runs are unusable, so cleaning would stop for them: sub-01_ses-baseline's derivatives/fmriprep/sub-01/ses-baseline/"
                + "func/sub-01_ses-baseline_task-rest_space-MNI152NLin2009cAsym_desc-brain_mask.nii.gz has no voxel above mask_threshold 2 on the run's BOLD grid "
                + "(46×55×46 at 4×4×4 mm, origin (90, -126, -72)): a mask of another space, or a threshold above its values; also sub-01_ses-day13, "
                + "sub-02_ses-baseline, sub-02_ses-day13, sub-03_ses-baseline, sub-03_ses-day13, sub-04_ses-baseline, sub-04_ses-day13, sub-06_ses-baseline "
                + "and 9 more",
        ], high.result.stderr)
    }

    /// Seeds named by label need the atlas's label table. Without `atlas_labels` the labels are the
    /// numbers the atlas image holds, read now: a name, or a number the image lacks, would stop
    /// every connectivity task. A name the table gives to two labels is ambiguous (which label a
    /// task used would not be known).
    func testAtlasLabelsWithoutATableOrWithARepeatedNameAreSpecErrors() throws {
        let text = try String(contentsOf: Self.spec, encoding: .utf8)
        let tableLine = #"      "atlas_labels": "atlases/amygdala_subregions.tsv",\#n"#
        XCTAssertTrue(text.contains(tableLine))
        let noTable = text.replacingOccurrences(of: tableLine, with: "")
            .replacingOccurrences(of: #"{"name": "LBAleft", "label": "LBA_left"}"#, with: #"{"name": "LBAleft", "label": "1"}"#)
            .replacingOccurrences(of: #"{"name": "LBAright", "label": "LBA_right"}"#, with: #"{"name": "LBAright", "label": "999"}"#)
        let (r, problems) = try validate(text: noTable, as: "no-table.json")
        XCTAssertEqual(r.status, 2, r.stderr)
        let seeds = problems.map(keyed).filter { $0.hasPrefix("connectivity.seeds[") }
        XCTAssertEqual(seeds.map { String($0.prefix { $0 != ":" }) },
                       ["connectivity.seeds[1].label", "connectivity.seeds[2].label", "connectivity.seeds[3].label", "connectivity.seeds[4].label",
                        "connectivity.seeds[5].label"], "label 1 is in the image; 999 and the names are not")
        XCTAssertTrue(seeds[0].hasPrefix("connectivity.seeds[1].label: the atlas has no label '999': without an atlas_labels table its labels are "
                                         + "the numbers in the image (1, 2, 3, "), seeds[0])
        XCTAssertTrue(seeds[1].hasPrefix("connectivity.seeds[2].label: the atlas has no label 'CMA_left': without"), seeds[1])
        XCTAssertTrue(seeds[1].hasSuffix("; give atlas_labels to use names"), seeds[1])

        let table = try String(contentsOf: Self.root.appendingPathComponent("atlases/amygdala_subregions.tsv"), encoding: .utf8)
        try (table + (table.hasSuffix("\n") ? "" : "\n") + "99\tLBA_left\n")
            .write(to: Self.root.appendingPathComponent("atlases/repeated.tsv"), atomically: true, encoding: .utf8)
        let repeated = try validate(text: text.replacingOccurrences(of: "atlases/amygdala_subregions.tsv", with: "atlases/repeated.tsv"), as: "repeated.json")
        XCTAssertEqual(repeated.problems.map(keyed).filter { $0.hasPrefix("connectivity.") },
                       ["connectivity.seeds[0].label: the atlas table names labels 1 and 99 'LBA_left': give the number of the one meant"],
                       repeated.result.stderr)
    }

    /// A qc stage's max_mean_fd needs each run's framewise displacement: runs whose confounds have
    /// neither the column nor the six motion columns are named before anything runs (the qc stage
    /// would stop after every run was cleaned), once.
    func testMaxMeanFDOnRunsWithoutMotionIsASpecError() throws {
        let edited = [("04", "day13"), ("12", "baseline")].map { subject, session in
            Self.root.appendingPathComponent("derivatives/fmriprep/sub-\(subject)/ses-\(session)/func/sub-\(subject)_ses-\(session)_task-rest_desc-confounds_timeseries.tsv")
        }
        var originals: [URL: Data] = [:]
        defer { for (url, data) in originals { try? data.write(to: url) } }
        for url in edited {
            let data = try Data(contentsOf: url)
            originals[url] = data
            var lines = String(decoding: data, as: UTF8.self).components(separatedBy: "\n")
            lines[0] = lines[0].split(separator: "\t", omittingEmptySubsequences: false)
                .map { $0 == "framewise_displacement" ? "fd_old" : $0 == "trans_x" ? "tx" : String($0) }.joined(separator: "\t")
            try Data(lines.joined(separator: "\n").utf8).write(to: url)
        }
        // Cleaning itself needs no motion: wm_csf regressors, no FD scrubbing.
        let text = try String(contentsOf: Self.spec, encoding: .utf8)
            .replacingOccurrences(of: #""confounds": "24P+wm_csf""#, with: #""confounds": "wm_csf""#)
            .replacingOccurrences(of: #""scrub_fd": 0.5,"#, with: #""scrub_fd": 0,"#)
            .replacingOccurrences(of: #""responders_baseline": {"#, with: #""qc": {"kind": "qc", "from": ["clean"], "max_mean_fd": 0.5},\#n    "responders_baseline": {"#)
        let (r, problems) = try validate(text: text, as: "bad-qc.json")
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertEqual(problems.count, 1, r.stderr)
        XCTAssertTrue(problems.first?.contains(" stages.qc.max_mean_fd: is set, but the confounds have neither framewise_displacement nor the six motion "
                                               + "columns (trans_x, trans_y, trans_z, rot_x, rot_y, rot_z) to compute it from in 2 runs: "
                                               + "sub-04_ses-day13, sub-12_ses-baseline (the first: ") == true, r.stderr)
        // The motion columns are enough: FD is computed from them.
        for url in edited {
            let data = try Data(contentsOf: url)
            try Data(String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\ttx\t", with: "\ttrans_x\t").utf8).write(to: url)
        }
        let ok = try validate(text: text, as: "bad-qc.json").result
        XCTAssertEqual(ok.status, 0, ok.stderr)

        // A framewise_displacement column of n/a alone gives no mean, nor does a motion column of
        // n/a alone when FD would be computed from the six.
        func edit(_ url: URL, _ change: (_ row: Int, _ name: String, _ cell: String) -> (String, String)) throws {
            let rows = String(decoding: originals[url]!, as: UTF8.self).components(separatedBy: "\n")
            let names = rows[0].components(separatedBy: "\t")
            let edited = rows.enumerated().map { i, row in
                row.isEmpty ? row : row.components(separatedBy: "\t").enumerated().map { k, cell in
                    let (name, value) = change(i, names[k], cell)
                    return i == 0 ? name : value
                }.joined(separator: "\t")
            }
            try Data(edited.joined(separator: "\n").utf8).write(to: url)
        }
        try edit(edited[0]) { _, name, cell in (name, name == "framewise_displacement" ? "n/a" : cell) }
        try edit(edited[1]) { _, name, cell in (name == "framewise_displacement" ? "fd_old" : name, name == "rot_z" ? "n/a" : cell) }
        let (empty, emptyProblems) = try validate(text: text, as: "bad-qc.json")
        XCTAssertEqual(empty.status, 2, empty.stderr)
        XCTAssertEqual(emptyProblems.map(keyed), [
            "qc.max_mean_fd: is set, but the confounds' framewise_displacement column has no number after the dummy scans, so the run has no mean to compare "
                + "in sub-04_ses-day13 (\(edited[0].path))" + Self.leaveOutOne,
            "qc.max_mean_fd: is set, but the confounds have no framewise_displacement column, and their rot_z column, from which it "
                + "would be computed, has no number in sub-12_ses-baseline (\(edited[1].path))" + Self.leaveOutOne,
        ], empty.stderr)
        // After the 5 dummy scans, a number in the first row kept alone is not a mean (framewise
        // displacement starts at the second volume kept); one in the second row is.
        try edit(edited[1]) { _, name, cell in (name, cell) }
        for (row, status) in [(6, Int32(2)), (7, 0)] {
            try edit(edited[0]) { i, name, cell in (name, name == "framewise_displacement" && i > 0 && i != row ? "n/a" : cell) }
            XCTAssertEqual(try validate(text: text, as: "bad-qc.json").result.status, status, "a number in row \(row) alone")
        }
    }

    func testAConfoundColumnMissingFromTheFirstRunIsASpecError() throws {
        let (r, line, _) = try validate(replacing: #""confounds": "24P+wm_csf""#, with: #""confounds": "24P+wm_csf+global_signl""#)
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("bad.json:\(line):") && r.stderr.contains("'global_signl'") && r.stderr.contains("(did you mean 'global_signal'?)"), r.stderr)
    }

    /// Every run's files are checked, not only the first's: runs that differ from the others fail
    /// before anything runs (cleaning would stop at them, or the group stage after every run was
    /// cleaned), each problem once, with the runs it concerns, at the stage that reads them.
    func testAProblemInOneStagesKeysLeavesTheOtherStagesCheckedAgainstTheData() throws {
        // A sidecar in milliseconds (the clean stage's data) and a misspelt key of one group stage:
        // one round of validate names both (the data's problem came only once the key was mended),
        // and which stages wait for the key.
        let sidecar = Self.root.appendingPathComponent("derivatives/fmriprep/sub-03/ses-day13/func/sub-03_ses-day13_task-rest_space-MNI152NLin2009cAsym_desc-preproc_bold.json")
        let original = try Data(contentsOf: sidecar)
        defer { try? original.write(to: sidecar) }
        let text = String(decoding: original, as: UTF8.self)
        XCTAssertTrue(text.contains(#""RepetitionTime" : 2,"#), text)
        try Data(text.replacingOccurrences(of: #""RepetitionTime" : 2,"#, with: #""RepetitionTime" : 2000,"#).utf8).write(to: sidecar)
        let (r, line, _) = try validate(replacing: #""seed": "CMAright", "session": "baseline","#, with: #""seed": "CMAright", "sesion": "baseline","#)
        XCTAssertEqual(r.status, 2, r.stderr)
        let lines = r.stderr.split(separator: "\n").map(String.init).filter { $0.contains("bad.json:") }
        XCTAssertEqual(lines.count, 3, r.stderr)
        XCTAssertTrue(lines.contains { $0.contains("bad.json:\(line):") && $0.contains("stages.anxiety_baseline.sesion: unknown key") && $0.contains("session") }, r.stderr)
        XCTAssertTrue(lines.contains { $0.contains("stages.clean.repetition_time: cannot take the repetition time (RepetitionTime) in sub-03_ses-day13 (")
                                       && $0.contains("RepetitionTime: is 2000.0; BIDS stores seconds") }, r.stderr)
        XCTAssertTrue(lines.contains { $0.hasSuffix(" stages: not checked against the study's files until the problems above are mended: anxiety_baseline, anxiety_followup, report") }, r.stderr)

        // Mended key: the data's problem alone.
        let mended = try runPipe(["validate", Self.spec.path])
        XCTAssertEqual(mended.status, 2, mended.stderr)
        XCTAssertEqual(mended.stderr.split(separator: "\n").filter { $0.contains("ketamine-amygdala.json:") }.count, 1, mended.stderr)
    }

    func testEveryRunIsCheckedAndEachProblemIsReportedOnceWithItsRuns() throws {
        let func_ = { (subject: String, session: String) in
            Self.root.appendingPathComponent("derivatives/fmriprep/sub-\(subject)/ses-\(session)/func/sub-\(subject)_ses-\(session)_task-rest_")
        }
        func confounds(_ subject: String, _ session: String) -> URL {
            URL(fileURLWithPath: func_(subject, session).path + "desc-confounds_timeseries.tsv")
        }
        func bold(_ subject: String, _ session: String, _ suffix: String) -> URL {
            URL(fileURLWithPath: func_(subject, session).path + "space-MNI152NLin2009cAsym_desc-preproc_bold" + suffix)
        }
        var originals: [URL: Data] = [:]
        func edit(_ url: URL, _ change: (Data) throws -> Data) throws {
            let data = try Data(contentsOf: url)
            if originals[url] == nil { originals[url] = data }
            try change(data).write(to: url)
        }
        defer {
            for (url, data) in originals { try? data.write(to: url) }
            for name in ["moved.nii", "moved.nii.gz"] { try? FileManager.default.removeItem(at: Self.root.appendingPathComponent(name)) }
        }

        // Two runs' confounds files from another fMRIPrep version, without `csf`.
        for (subject, session) in [("07", "day13"), ("13", "baseline")] {
            try edit(confounds(subject, session)) { Data(String(decoding: $0, as: UTF8.self).replacingOccurrences(of: "\tcsf\t", with: "\tcsf_old\t").utf8) }
        }
        // One run's confounds cut short by a row.
        try edit(confounds("12", "baseline")) { data in
            var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            if lines.last == "" { lines.removeLast() }
            return Data((lines.dropLast().joined(separator: "\n") + "\n").utf8)
        }
        // Two sidecars in milliseconds.
        for (subject, session) in [("09", "day13"), ("04", "day13")] {
            try edit(bold(subject, session, ".json")) { Data(String(decoding: $0, as: UTF8.self).replacingOccurrences(of: #""RepetitionTime" : 2,"#, with: #""RepetitionTime" : 2000,"#).utf8) }
        }
        // A sidecar whose TR is text: a second TR problem, its own line (it was folded into the
        // milliseconds one, which showed only that one's reason).
        try edit(bold("03", "day13", ".json")) { Data(String(decoding: $0, as: UTF8.self).replacingOccurrences(of: #""RepetitionTime" : 2,"#, with: #""RepetitionTime" : "2","#).utf8) }
        // A run 4 mm off the others' origin (sform srow_x[3]).
        let plain = Self.root.appendingPathComponent("moved.nii")
        func shift(_ subject: String, _ session: String) throws {
            let image = bold(subject, session, ".nii.gz")
            XCTAssertEqual(try runShell("gzip -dc '\(image.path)' > '\(plain.path)'"), 0)
            try edit(image) { _ in
                var bytes = [UInt8](try Data(contentsOf: plain))
                let x = Float(bitPattern: UInt32(bytes[292]) | UInt32(bytes[293]) << 8 | UInt32(bytes[294]) << 16 | UInt32(bytes[295]) << 24) + 4
                for k in 0..<4 { bytes[292 + k] = UInt8(truncatingIfNeeded: x.bitPattern >> (8 * k)) }
                try Data(bytes).write(to: plain)
                XCTAssertEqual(try runShell("gzip -c '\(plain.path)' > '\(plain.path).gz'"), 0)
                return try Data(contentsOf: URL(fileURLWithPath: plain.path + ".gz"))
            }
        }
        // A non-anxious subject's baseline run.
        try shift("06", "baseline")
        let image = bold("06", "baseline", ".nii.gz")

        // A sphere of 1 mm on a voxel centre at the grid's x edge: every run's grid has that voxel
        // but sub-06's baseline run, 4 mm off.
        let (r, _, seconds) = try validate(replacing: #"{"name": "SFAright", "label": "SFA_right"}"#,
                                           with: #"{"name": "SFAright", "label": "SFA_right"}, {"name": "edge", "sphere": [-90, -2, 0], "radius": 1}"#)
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertLessThan(seconds, 30)
        let lines = r.stderr.split(separator: "\n").map(String.init)
        func one(_ needle: String) -> String {
            let found = lines.filter { $0.contains(needle) }
            XCTAssertEqual(found.count, 1, "once: \(needle)\n\(r.stderr)")
            return found.first ?? ""
        }
        let csf = one("stages.clean.confounds: 'csf': confound column not found")
        XCTAssertTrue(csf.hasSuffix("(columns that start alike: csf_old, csf_derivative1, csf_power2, csf_derivative1_power2) in 2 runs: "
                                    + "sub-07_ses-day13, sub-13_ses-baseline (the first: derivatives/fmriprep/sub-07/ses-day13/func/"
                                    + "sub-07_ses-day13_task-rest_desc-confounds_timeseries.tsv)" + Self.leaveOutSeveral), "no strategy name suggested for a column: \(csf)")
        let rows = one("stages.clean.confounds: the confounds file's rows differ")
        XCTAssertTrue(rows.contains("in sub-12_ses-baseline (derivatives/fmriprep/sub-12/ses-baseline/func/sub-12_ses-baseline_task-rest_desc-confounds_timeseries.tsv: 119 rows, 120 volumes)"), rows)
        let trs = lines.filter { $0.contains("stages.clean.repetition_time: cannot take the repetition time (RepetitionTime)") }
        XCTAssertEqual(trs.count, 2, r.stderr)
        let tr = trs.first { $0.contains(" in 2 runs: ") } ?? ""
        XCTAssertTrue(tr.contains("in 2 runs: sub-04_ses-day13, sub-09_ses-day13 (the first: "), r.stderr)
        XCTAssertTrue(tr.contains("sub-04_ses-day13_task-rest_space-MNI152NLin2009cAsym_desc-preproc_bold.json: RepetitionTime: is 2000.0; "
                                  + "BIDS stores seconds, and this looks like milliseconds"), tr)
        let text = trs.first { !$0.contains(" in 2 runs: ") } ?? ""
        XCTAssertTrue(text.contains(#"(RepetitionTime) in sub-03_ses-day13 ("#) && text.contains(#"sub-03_ses-day13_task-rest_space-MNI152NLin2009cAsym_desc-preproc_bold.json: RepetitionTime: is the text "2" (a number in quotes?)"#)
                      && text.hasSuffix(Self.leaveOutOne), text)
        // The grid: only the stage whose subjects include sub-06 (non-anxious), at its session.
        let grid = one("stages.anxiety_baseline.resample: the runs it compares are on 2 grids")
        XCTAssertTrue(grid.contains("origin (") && grid.contains("8 runs (sub-01_ses-baseline, ...)") && grid.contains(": sub-06_ses-baseline;"), grid)
        let edge = one("stages.connectivity.seeds[6].sphere: no voxel of the data grid lies within 1 mm of (-90, -2, 0): sub-06_ses-baseline's run ")
        XCTAssertTrue(edge.contains("spans x -86 to 94, ") && edge.contains(", origin (94, ") && !edge.contains("also for")
                      && edge.hasSuffix(" (1 of the runs' 2 grids has one: those runs are on other grids)"), edge)
        // The roi follow-up of the anxiety test reads every subject's maps at both sessions.
        let followup = one("stages.anxiety_followup.resample: the runs it compares are on 2 grids")
        XCTAssertTrue(followup.contains("(sub-01_ses-baseline, ...)") && followup.contains(": sub-06_ses-baseline;"), followup)
        XCTAssertFalse(["responders_baseline", "responders_change", "responders_followup"].contains { r.stderr.contains("\($0).resample") }, r.stderr)
        XCTAssertEqual(lines.filter { $0.contains("resample") }.count, 2, r.stderr)

        // With the anxiety test and its follow-up resampling, and the files mended, the spec validates.
        for (url, data) in originals where url != image { try data.write(to: url) }
        let (ok, _, _) = try validate(replacing: #""seed": "CMAright""#, with: #""resample": "nearest", "seed": "CMAright""#)
        XCTAssertEqual(ok.status, 0, ok.stderr)

        // The longitudinal stage compares the anxious subjects with both sessions, and the roi
        // follow-ups every included subject with a baseline map, at both sessions: sub-01's day-13
        // run off the grid is named by those three (no baseline stage reads it); sub-02's, whose
        // baseline scan is missing, is named nowhere.
        try originals[image]!.write(to: image)
        try shift("01", "day13")
        try shift("02", "day13")
        let baseline02 = bold("02", "baseline", ".nii.gz"), aside = URL(fileURLWithPath: bold("02", "baseline", ".aside").path)
        try FileManager.default.moveItem(at: baseline02, to: aside)
        defer { try? FileManager.default.moveItem(at: aside, to: baseline02) }
        let (pairs, _, _) = try validate(replacing: #""missing_scans": []"#, with: #""missing_scans": ["sub-02_ses-baseline"]"#)
        XCTAssertEqual(pairs.status, 2, pairs.stderr)
        let resample = pairs.stderr.split(separator: "\n").filter { $0.contains(".resample: ") }
        XCTAssertEqual(resample.map { $0.components(separatedBy: ".resample: ")[0].components(separatedBy: "stages.").last! },
                       ["responders_change", "responders_followup", "anxiety_followup"], pairs.stderr)
        for line in resample {
            XCTAssertTrue(line.contains(": the runs it compares are on 2 grids") && line.contains(": sub-01_ses-day13;") && !line.contains("sub-02"), String(line))
        }
    }
}

/// Runs a shell command; its exit status.
/// A problem line of `pipe validate` without its file and position: `stage.key: message`.
func keyed(_ line: some StringProtocol) -> String { String(line).components(separatedBy: " stages.").last! }

func runShell(_ command: String) throws -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", command]
    try p.run()
    p.waitUntilExit()
    return p.terminationStatus
}
