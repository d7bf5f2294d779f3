import Foundation
import NIfTI
import XCTest
import TestSupport

/// pipelines/demo.json run by the built binary on a small cohort (via --set), end to end.
final class DemoStudyTests: XCTestCase {
    private func temporary() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-demo-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func tree(_ root: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for case let url as URL in FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)! {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                out[String(url.path.dropFirst(root.path.count))] = try Data(contentsOf: url)
            }
        }
        return out
    }

    /// Five subjects x two sessions through every stage, group statistics included: outputs are
    /// complete, byte-identical for --jobs 1 --cores 1 and --jobs 2 (threads 1 and 2), and a rerun
    /// executes nothing.
    func testDemoRunsResumesAndIsDeterministic() throws {
        let folder = try temporary()
        let demo = packageRoot.appendingPathComponent("pipelines/demo.json").path
        var outputs: [[String: Data]] = []
        for jobs in ["1", "2"] {
            let cache = folder.appendingPathComponent("cache-\(jobs)").path, out = folder.appendingPathComponent("out-\(jobs)")
            // Five subjects: anxious responder (01), non-responders (04, 09), non-anxious (06, 07),
            // enough for every group stage; few permutations keep it short.
            var args = ["run", demo, "--set", "cohort.subjects=[\"01\",\"04\",\"06\",\"07\",\"09\"]", "--set", "outputs=\(out.path)",
                        "--cache-dir", cache, "--jobs", jobs, "--quiet"]
            // One core: every task gets 1 thread; else the group stages get 2 (their default 4,
            // capped by the cores): outputs must not depend on the thread budget.
            if jobs == "1" { args += ["--cores", "1"] }
            for stage in ["responders_baseline", "anxiety_baseline", "improvement_baseline", "responders_change"] {
                args += ["--set", "stages.\(stage).permutations=200"]
            }
            // One anxious responder: pool the paired test over the three anxious subjects.
            args += ["--set", "stages.responders_change.paired=[\"all\"]"]
            let first = try runPipe(args)
            XCTAssertEqual(first.status, 0, first.stderr)
            outputs.append(try tree(out))
            let again = try runPipe(args.filter { $0 != "--quiet" })
            XCTAssertEqual(again.status, 0, again.stderr)
            XCTAssertTrue((again.stdout + again.stderr).contains("0 ran"), "a rerun must execute nothing:\n\(again.stdout)\(again.stderr)")
        }
        XCTAssertEqual(outputs[0].keys.sorted(), outputs[1].keys.sorted())
        // The description and the methods name each run's overrides (here, its own output folder);
        // the rest is equal.
        let provenance: Set<String> = ["/dataset_description.json", "/methods.md", "/report/index.html"]
        XCTAssertEqual(outputs[0].filter { !provenance.contains($0.key) }, outputs[1].filter { !provenance.contains($0.key) },
                       "--jobs 1 and --jobs 2 must give byte-identical outputs")
        // The report's page shows the overrides too, and differs in nothing else.
        func page(_ i: Int) -> String {
            String(decoding: outputs[i]["/report/index.html"] ?? Data(), as: UTF8.self)
                .replacingOccurrences(of: folder.appendingPathComponent("out-\(i + 1)").path, with: "OUT")
        }
        XCTAssertFalse(page(0).isEmpty)
        XCTAssertEqual(page(0), page(1), "the report differs between --jobs 1 and 2 beyond its output folder")

        // On Slurm (job arrays of `pipe worker`, scripts/slurm/start): the same bytes as locally.
        let environment = ProcessInfo.processInfo.environment
        if let conf = environment["SLURM_CONF"], FileManager.default.fileExists(atPath: conf) {
            let slurmOut = folder.appendingPathComponent("out-slurm")
            var args = ["run", demo, "--set", "cohort.subjects=[\"01\",\"04\",\"06\",\"07\",\"09\"]", "--set", "outputs=\(slurmOut.path)",
                        "--cache-dir", folder.appendingPathComponent("cache-slurm").path, "--executor", "slurm", "--set", "slurm.poll_seconds=0.5"]
            for stage in ["responders_baseline", "anxiety_baseline", "improvement_baseline", "responders_change"] {
                args += ["--set", "stages.\(stage).permutations=200"]
            }
            args += ["--set", "stages.responders_change.paired=[\"all\"]"]
            let slurm = try runPipe(args)
            XCTAssertEqual(slurm.status, 0, slurm.stderr)
            let onCluster = try tree(slurmOut)
            XCTAssertEqual(onCluster.keys.sorted(), outputs[0].keys.sorted())
            let differing = onCluster.keys.filter { !provenance.contains($0) && onCluster[$0] != outputs[0][$0] }.sorted()
            XCTAssertEqual(differing, [], "the Slurm executor must give the local executor's bytes")
            XCTAssertTrue(slurm.stderr.contains("slurm: "), slurm.stderr)
        } else if environment["PIPE_REQUIRE_SLURM"] == "1" {
            XCTFail("SLURM_CONF is not set: scripts/test starts the local Slurm")
        }

        // A report that fails (its background template's data is corrupt past the header, with the
        // gzip trailer intact: the spec check reads the header and the trailer's length, which
        // agree) fails that task alone, once, naming the file and the field; every other stage is
        // published from the cache.
        let bad = folder.appendingPathComponent("template.nii.gz")
        try NIfTIFile.write(NIfTIImage(shape: [24, 24, 24], affine: .identity, data: (0..<(24 * 24 * 24)).map { Float(($0 * 7919) % 1000) }),
                            to: bad.path)
        var corrupt = try Data(contentsOf: bad)
        corrupt[corrupt.count * 3 / 4] ^= 0xFF
        try corrupt.write(to: bad)
        XCTAssertNoThrow(try NIfTIFile.readHeader(bad.path))
        XCTAssertEqual(try NIfTIFile.trailerAgrees(bad.path), .agrees)
        XCTAssertThrowsError(try NIfTIFile.checkComplete(bad.path), "the data itself is corrupt")
        let failedOut = folder.appendingPathComponent("out-failed")
        var failing = ["run", demo, "--set", "cohort.subjects=[\"01\",\"04\",\"06\",\"07\",\"09\"]", "--set", "outputs=\(failedOut.path)",
                       "--cache-dir", folder.appendingPathComponent("cache-1").path, "--set", "stages.report.background=\(bad.path)"]
        for stage in ["responders_baseline", "anxiety_baseline", "improvement_baseline", "responders_change"] {
            failing += ["--set", "stages.\(stage).permutations=200"]
        }
        failing += ["--set", "stages.responders_change.paired=[\"all\"]"]
        let failed = try runPipe(failing)
        XCTAssertNotEqual(failed.status, 0)
        let said = failed.stdout + failed.stderr
        XCTAssertTrue(said.contains(bad.path) && said.contains("background") && said.contains("cannot be read as a NIfTI image"), said)
        XCTAssertTrue(said.contains("1 failed"), said)
        XCTAssertFalse(FileManager.default.fileExists(atPath: failedOut.appendingPathComponent("report/index.html").path))
        let published = try tree(failedOut)
        for (name, bytes) in outputs[0] where !name.hasPrefix("/report/") && !provenance.contains(name) {
            XCTAssertEqual(published[name], bytes, "\(name) must be published although the report failed")
        }
        let maps = outputs[0].keys.filter { $0.hasSuffix("_stat-z_connectivity.nii.gz") }
        XCTAssertEqual(maps.count, 5 * 2 * 6, "5 subjects x 2 sessions x 6 seeds")
        XCTAssertEqual(outputs[0].keys.filter { $0.hasSuffix("_summary.json") }.count, 7, "qc, three group analyses, one longitudinal, two follow-ups")
        XCTAssertTrue(outputs[0].keys.contains { $0.hasSuffix("cohort/participants.tsv") })
        XCTAssertTrue(outputs[0].keys.contains { $0.contains("sub-04_ses-day13_task-rest_space-MNI152NLin2009cAsym_desc-roi_connectivity.tsv") })
        // A BIDS-derivatives dataset: the description's required fields, and a sidecar per map.
        let description = try JSONSerialization.jsonObject(with: outputs[0]["/dataset_description.json"] ?? Data()) as? [String: Any]
        XCTAssertEqual(description?["DatasetType"] as? String, "derivative")
        XCTAssertNotNil(description?["Name"] as? String)
        XCTAssertNotNil(description?["BIDSVersion"] as? String)
        let generated = (description?["GeneratedBy"] as? [[String: Any]])?.first
        XCTAssertEqual(generated?["Name"] as? String, "pipe")
        XCTAssertEqual((generated?["SpecSHA256"] as? String)?.count, 64)
        XCTAssertTrue((generated?["Overrides"] as? [String])?.contains("stages.responders_change.paired=[\"all\"]") ?? false, "\(generated ?? [:])")
        // The generated methods: every stage, its non-default parameters, the references cited.
        let methods = String(decoding: outputs[0]["/methods.md"] ?? Data(), as: UTF8.self)
        for needle in ["## clean (`clean`, version", "`smoothing_fwhm` = `6`", "`scrub_fd` = `0.5`", "0.01–0.1 Hz", "[Power2012]",
                       "## responders_change (`longitudinal`", "`permutations` = `200`", "TFCE (E = 0.5, H = 2)", "sign flipping"] {
            XCTAssertTrue(methods.contains(needle), "methods.md lacks \(needle):\n\(methods)")
        }
        let bib = String(decoding: outputs[0]["/references.bib"] ?? Data(), as: UTF8.self)
        XCTAssertTrue(bib.contains("@article{Power2012") && bib.contains("@article{Smith2009"), bib)
        let niftis = outputs[0].keys.filter { $0.hasSuffix(".nii.gz") }
        XCTAssertGreaterThan(niftis.count, 100)
        for map in niftis {
            let sidecar = String(map.dropLast(".nii.gz".count)) + ".json"
            guard let data = outputs[0][sidecar] else { XCTFail("\(map) has no sidecar"); continue }
            let o = try JSONSerialization.jsonObject(with: data) as! [String: Any]
            XCTAssertEqual((o["TaskKey"] as? String)?.count, 64, sidecar)
            XCTAssertNotNil(o["Parameters"] as? [String: Any], sidecar)
            XCTAssertNotNil(o["KindVersion"] as? Int, sidecar)
        }
        // And as a BIDS reader sees it: pybids indexes the folder as a derivatives dataset and finds
        // each NIfTI file's sidecar; nibabel reads every map, all finite.
        let python = try crossCheckPython(modules: ["bids", "nibabel"])
        let read = try runProcess(python, [packageRoot.appendingPathComponent("Tests/CrossCheck/bids_derivatives.py").path,
                                           folder.appendingPathComponent("out-1").path])
        XCTAssertEqual(read.status, 0, read.output)
        let bids = try XCTUnwrap(JSONSerialization.jsonObject(with: Data((read.output.split(separator: "\n").last ?? "").utf8)) as? [String: Any], read.output)
        XCTAssertEqual((bids["description"] as? [String: Any])?["DatasetType"] as? String, "derivative")
        XCTAssertEqual(bids["subjects"] as? [String], ["01", "04", "06", "07", "09"])
        XCTAssertEqual(bids["niftis"] as? Int, niftis.count)
        XCTAssertEqual(bids["without_metadata"] as? [String], [])
        XCTAssertEqual(bids["unreadable"] as? [String], [])
        XCTAssertEqual(bids["non_finite"] as? [String], [])
    }

    /// A subject without its day-13 scan (`cohort.missing_scans`): its baseline scan is still
    /// processed, the longitudinal stage lists and excludes it, and with `missing_session: error`
    /// the spec check fails naming it.
    func testASubjectMissingASessionIsListedAndExcluded() throws {
        let folder = try temporary()
        let demo = packageRoot.appendingPathComponent("pipelines/demo.json").path
        let out = folder.appendingPathComponent("out")
        var args = ["run", demo, "--set", "cohort.subjects=[\"01\",\"04\",\"06\",\"07\",\"09\"]",
                    "--set", "cohort.missing_scans=[\"sub-09_ses-day13\"]", "--set", "outputs=\(out.path)",
                    "--cache-dir", folder.appendingPathComponent("cache").path, "--quiet",
                    "--set", "stages.responders_change.include={}", "--set", "stages.responders_change.paired=[\"all\"]"]
        for stage in ["responders_baseline", "anxiety_baseline", "improvement_baseline", "responders_change"] {
            args += ["--set", "stages.\(stage).permutations=100"]
        }
        let result = try runPipe(args)
        XCTAssertEqual(result.status, 0, result.stderr)
        let files = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("responders_change").path)
        let name = try XCTUnwrap(files.first { $0.hasSuffix("_summary.json") })
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("responders_change/\(name)"))) as! [String: Any]
        XCTAssertEqual(summary["subjects"] as? [String], ["01", "04", "06", "07"])
        let excluded = try XCTUnwrap(summary["excluded_one_session"] as? [[String: String]])
        XCTAssertEqual(excluded, [["participant_id": "sub-09", "missing": "day13"]])
        let connectivity = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("connectivity").path)
        XCTAssertTrue(connectivity.contains { $0.hasPrefix("sub-09_ses-baseline") })
        XCTAssertFalse(connectivity.contains { $0.hasPrefix("sub-09_ses-day13") })

        // With missing_session: error, the spec check names it before anything runs (exit 2).
        let strict = try runPipe(args + ["--set", "stages.responders_change.missing_session=error"])
        XCTAssertEqual(strict.status, 2, strict.stderr)
        XCTAssertTrue(strict.stderr.contains("stages.responders_change.missing_session: is error, and sub-09 has no day13 scan"), strict.stderr)

        let bad = try runPipe(["plan", demo, "--set", "cohort.missing_scans=[\"sub-99_ses-day13\"]"])
        XCTAssertEqual(bad.status, 2, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("cohort.missing_scans[0]"), bad.stderr)
    }

    /// `keep: false` on clean drops each run's series and keeps its record, mask, mean EPI and
    /// carpet plot: a changed report or QC threshold reruns those stages alone (the report's
    /// carpets are clean's, byte for byte the same as with the series kept), and a changed
    /// connectivity stage recomputes each run once, warning once.
    func testKeepFalseCleanIsNotRecomputedForQCOrTheReport() throws {
        let folder = try temporary()
        func spec(keep: Bool) -> String {
            """
            {"pipe": 1, "cohort": {"subjects": ["01", "04", "06"], "sessions": ["baseline"]},
             "stages": {
              "data": {"kind": "synth", "scale": "demo", "seed": 1, "publish": false},
              "cohort": {"kind": "synth_cohort", "scale": "demo", "seed": 1},
              "clean": {"kind": "clean", "from": "data", "keep": \(keep), "dummy_scans": 2, "smoothing_fwhm": 6,
                        "confounds": "6P+wm_csf", "filter": "butterworth", "high_pass": 0.01, "low_pass": 0.1,
                        "scrub_fd": 0.5, "scrub_std_dvars": 1.5, "scrub_min_segment": 5},
              "connectivity": {"kind": "connectivity", "from": ["clean", "cohort"], "seeds": [{"name": "LBAleft", "label": "LBA_left"}]},
              "qc": {"kind": "qc", "from": ["clean", "connectivity"], "max_mean_fd": 0.5},
              "report": {"kind": "report", "from": ["cohort", "clean", "qc", "connectivity"], "motion_scans": 2}}}
            """
        }
        var reports: [[String: Data]] = []
        for keep in [true, false] {
            let study = folder.appendingPathComponent("keep-\(keep)")
            try FileManager.default.createDirectory(at: study, withIntermediateDirectories: true)
            try spec(keep: keep).write(to: study.appendingPathComponent("study.json"), atomically: true, encoding: .utf8)
            let first = try runPipe(["run", study.appendingPathComponent("study.json").path, "--quiet"])
            XCTAssertEqual(first.status, 0, first.stderr)
            reports.append(try tree(study.appendingPathComponent("out/report")).filter { $0.key.hasSuffix(".png") })
        }
        XCTAssertEqual(reports[0].keys.filter { $0.hasSuffix("_carpet.png") }.count, 2)
        XCTAssertEqual(reports[1], reports[0], "the same figures whether the series is kept or not")

        let study = folder.appendingPathComponent("keep-false")
        let specPath = study.appendingPathComponent("study.json").path
        let tasks = study.appendingPathComponent("cache/tasks")
        var cleaned = 0, shownCarpets = 0
        for key in try FileManager.default.contentsOfDirectory(atPath: tasks.path) {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: tasks.appendingPathComponent("\(key)/out").path)) ?? []
            guard files.contains(where: { $0.hasSuffix("_desc-clean_timeseries.json") }) else { continue }
            cleaned += 1
            XCTAssertEqual(files.map { $0.components(separatedBy: "MNI152NLin2009cAsym_").last! }.sorted(),
                           ["desc-carpetplot_bold.png", "desc-clean_mask.nii.gz", "desc-clean_timeseries.json", "desc-mean_bold.nii.gz"],
                           "the series is dropped, the rest kept: \(files)")
            let carpet = try XCTUnwrap(files.first { $0.hasSuffix("_desc-carpetplot_bold.png") })
            let label = String(carpet.prefix { $0 != "_" }) + "_ses-baseline_carpet.png"
            if let shown = reports[0]["/" + label] {
                shownCarpets += 1
                XCTAssertEqual(shown, try Data(contentsOf: tasks.appendingPathComponent("\(key)/out/\(carpet)")), "the report shows clean's carpet")
            }
        }
        XCTAssertEqual(cleaned, 3)
        XCTAssertEqual(shownCarpets, 2)

        func ran(_ args: String...) throws -> (count: Int, said: String) {
            let r = try runPipe(["run", specPath] + args)
            XCTAssertEqual(r.status, 0, r.stderr)
            let said = r.stdout + r.stderr
            let count = said.range(of: #"(\d+) ran"#, options: .regularExpression).flatMap { Int(said[$0].split(separator: " ")[0]) } ?? -1
            return (count, said)
        }
        XCTAssertEqual(try ran("--set", "stages.report.motion_scans=3").count, 1, "the report alone")
        XCTAssertEqual(try ran("--set", "stages.qc.max_mean_fd=0.4").count, 2, "qc and the report")
        let seeds = try ran("--set", "stages.connectivity.seeds=[{\"name\": \"CMAright\", \"label\": \"CMA_right\"}]")
        XCTAssertEqual(seeds.count, 3 + 3 + 2, "each run cleaned again, then connectivity, qc and the report")
        XCTAssertEqual(seeds.said.components(separatedBy: "its data was dropped (keep: false)").count - 1, 1, seeds.said)
        XCTAssertFalse(seeds.said.contains("cached clean"), "recomputed runs count as run, not cached: \(seeds.said)")
        let status = try runPipe(["status", specPath])
        XCTAssertTrue(status.stdout.contains("clean: 3 ran, 0 cached, 0 failed"), "pipe status counts them once: \(status.stdout)")
    }

    /// Two runs per session (`cohort.runs`, synthetic runs with their own noise and motion):
    /// each run is cleaned and correlated, the qc table has a row per run, and a group stage tests
    /// each subject's mean over its runs. The same test on the run means computed here (each
    /// voxel's two Float32 values summed in Float64, halved, rounded to Float32; read from a maps
    /// table) gives the same statistical maps byte for byte.
    func testSeveralRunsPerSessionAreAveragedIntoOneMapPerSubject() throws {
        let folder = try temporary()
        let demo = packageRoot.appendingPathComponent("pipelines/demo.json").path
        let subjects = ["01", "04", "06", "07", "09"]
        let out = folder.appendingPathComponent("out")
        var args = ["run", demo, "--set", "cohort.subjects=[\(subjects.map { "\"\($0)\"" }.joined(separator: ","))]", "--quiet",
                    "--cache-dir", folder.appendingPathComponent("cache").path, "--set", "cohort.runs=[\"1\",\"2\"]",
                    "--set", "outputs=\(out.path)",
                    "--set", "stages.responders_change.include={}", "--set", "stages.responders_change.paired=[\"all\"]",
                    "--set", "stages.responders_baseline.from=[\"connectivity\", \"cohort\"]",
                    "--set", "stages.responders_followup.leave_one_out=\"off\""]
        for stage in ["responders_baseline", "anxiety_baseline", "improvement_baseline", "responders_change"] {
            args += ["--set", "stages.\(stage).permutations=100"]
        }
        let first = try runPipe(args)
        XCTAssertEqual(first.status, 0, first.stderr)
        let qc = try String(contentsOf: out.appendingPathComponent("qc/qc.tsv"), encoding: .utf8)
        XCTAssertEqual(qc.split(separator: "\n").count, 1 + 20, qc)

        // Each subject's baseline LBAleft maps of its two runs, averaged here into a maps table.
        let connectivity = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("connectivity").path)
        var table = "participant_id\tsession\tpath\n"
        for subject in subjects {
            let runs = try ["1", "2"].map { run in
                let name = try XCTUnwrap(connectivity.first {
                    $0.hasPrefix("sub-\(subject)_ses-baseline_") && $0.contains("_run-\(run)_") && $0.hasSuffix("_seed-LBAleft_stat-z_connectivity.nii.gz")
                }, "sub-\(subject) run-\(run)")
                return try NIfTIFile.read(out.appendingPathComponent("connectivity/\(name)").path, as: Float.self)
            }
            XCTAssertNotEqual(runs[0].data, runs[1].data, "the two runs hold different data")
            var mean = runs[0]
            for v in mean.data.indices {
                let a = runs[0].data[v], b = runs[1].data[v]
                mean.data[v] = a != 0 && a.isFinite && b != 0 && b.isFinite ? Float((Double(a) + Double(b)) / 2) : 0
            }
            let path = folder.appendingPathComponent("mean-sub-\(subject).nii.gz").path
            try NIfTIFile.write(mean, to: path)
            table += "sub-\(subject)\tbaseline\t\(path)\n"
        }
        let tablePath = folder.appendingPathComponent("means.tsv").path
        try table.write(toFile: tablePath, atomically: false, encoding: .utf8)
        let fromTable = try runPipe(args + ["--set", "stages.responders_baseline.maps=\(tablePath)",
                                            "--set", "stages.responders_baseline.from=[\"cohort\"]",
                                            "--set", "outputs=\(folder.appendingPathComponent("table").path)"])
        XCTAssertEqual(fromTable.status, 0, fromTable.stderr)
        let files = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("responders_baseline").path).sorted()
        var compared = 0
        for name in files where name.hasSuffix("_statmap.nii.gz") {
            let a = try Data(contentsOf: out.appendingPathComponent("responders_baseline/\(name)"))
            let b = try Data(contentsOf: folder.appendingPathComponent("table/responders_baseline/\(name)"))
            XCTAssertEqual(a, b, name)
            compared += 1
        }
        XCTAssertGreaterThanOrEqual(compared, 5)
        // The summaries say which runs each map averages; the maps table's runs are its own.
        func summary(_ root: URL, _ stage: String) throws -> [String: Any] {
            let folder = root.appendingPathComponent(stage)
            let name = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: folder.path).first { $0.hasSuffix("_summary.json") })
            return try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent(name))) as! [String: Any]
        }
        func everyRun(_ summary: [String: Any]) -> [String: [String]] {
            Dictionary(uniqueKeysWithValues: (summary["subjects"] as? [String] ?? []).map { ($0, ["1", "2"]) })
        }
        let baseline = try summary(out, "responders_baseline")
        XCTAssertEqual(baseline["runs"] as? [String: [String: [String]]], ["baseline": everyRun(baseline)], "\(baseline)")
        let change = try summary(out, "responders_change")
        XCTAssertEqual((change["subjects"] as? [String])?.count, 5)
        XCTAssertEqual(change["runs"] as? [String: [String: [String]]], ["baseline": everyRun(change), "day13": everyRun(change)], "\(change)")
        let followup = try summary(out, "responders_followup")
        XCTAssertEqual(followup["runs"] as? [String: [String: [String]]], ["baseline": everyRun(followup), "day13": everyRun(followup)], "\(followup)")
        XCTAssertTrue((followup["subjects"] as? [String])?.first?.hasPrefix("sub-") ?? false, "roi names subjects sub-<label>, in runs too")
        XCTAssertNil(try summary(folder.appendingPathComponent("table"), "responders_baseline")["runs"])
    }

    /// Bad input through the stages: each error names the file and what was expected, exit 1.
    func testBadInputThroughStagesGivesClearErrors() throws {
        let folder = try temporary()
        let data = folder.appendingPathComponent("data").path
        XCTAssertEqual(try runPipe(["synth", "--out", data, "--subjects", "sub-01"]).status, 0)
        let fmriprep = "\(data)/derivatives/fmriprep"
        let atlas = "\(data)/atlas/atlas-synth_space-MNI152NLin2009cAsym_res-4mm_dseg.nii.gz"
        func study(_ name: String, clean: String, seeds: String = "[{\"name\": \"LBA\", \"label\": \"LBA_left\"}]", sessions: String = "[\"baseline\"]") throws -> String {
            let url = folder.appendingPathComponent("\(name).json")
            try Data("""
                {"pipe": 1, "cache": "cache-\(name)", "outputs": "out-\(name)",
                 "cohort": {"subjects": ["01"], "sessions": \(sessions)},
                 "stages": {"clean": {"kind": "clean", "fmriprep": "\(fmriprep)", \(clean)},
                   "connectivity": {"kind": "connectivity", "from": "clean", "atlas": "\(atlas)",
                     "atlas_labels": "\(atlas.replacingOccurrences(of: ".nii.gz", with: ".tsv"))", "seeds": \(seeds)}}}
                """.utf8).write(to: url)
            return url.path
        }
        // Mistakes in names are found before anything runs (exit 2, at the spec line).
        for (name, clean, seeds, needles) in [
            ("missing-confound", #""confounds": "6P+wm_csf+not_a_column""#, "[{\"name\": \"LBA\", \"label\": \"LBA_left\"}]",
             ["'not_a_column': confound column not found", "desc-confounds_timeseries.tsv", "missing-confound.json:3:"]),
            ("unknown-label", #""confounds": "6P""#, "[{\"name\": \"X\", \"label\": \"LBA_lft\"}]",
             ["LBA_lft", "did you mean 'LBA_left'", "unknown-label.json:5:"]),
            // The synthetic grid: 46×55×46 at 4 mm, x −90 to 90, y −126 to 90, z −72 to 108.
            ("seed-outside", #""confounds": "6P""#, "[{\"name\": \"far\", \"sphere\": [0, 0, 500], \"radius\": 5}]",
             ["stages.connectivity.seeds[0].sphere: no voxel of the data grid lies within 5 mm of (0, 0, 500)",
              "spans x -90 to 90, y -126 to 90, z -72 to 108 mm", "seed-outside.json:5:"]),
        ] {
            let result = try runPipe(["run", try study(name, clean: clean, seeds: seeds), "--quiet"])
            XCTAssertEqual(result.status, 2, "\(name): \(result.stdout) \(result.stderr)")
            for needle in needles {
                XCTAssertTrue(result.stderr.contains(needle), "\(name): missing '\(needle)' in:\n\(result.stderr)")
            }
        }
        let cases: [(String, String, String, [String])] = [
            ("too-short", #""dummy_scans": 100, "filter": "butterworth""#, "[{\"name\": \"LBA\", \"label\": \"LBA_left\"}]",
             ["needs at least", "volumes"]),
        ]
        for (name, clean, seeds, needles) in cases {
            let result = try runPipe(["run", try study(name, clean: clean, seeds: seeds), "--quiet"])
            XCTAssertEqual(result.status, 1, "\(name): \(result.stdout) \(result.stderr)")
            for needle in needles {
                XCTAssertTrue((result.stderr + result.stdout).contains(needle), "\(name): missing '\(needle)' in:\n\(result.stderr)")
            }
        }
        // A missing session's files: the plan names the file (exit 2, invalid spec).
        let missing = try runPipe(["run", try study("no-session", clean: #""confounds": "6P""#, sessions: "[\"week6\"]"), "--quiet"])
        XCTAssertEqual(missing.status, 2, missing.stderr)
        XCTAssertTrue(missing.stderr.contains("ses-week6") && missing.stderr.contains("not found"), missing.stderr)
        // A seed parameter of the wrong shape is a spec error with its location.
        let badSeeds = try runPipe(["validate", try study("bad-seeds", clean: #""confounds": "6P""#, seeds: "[{\"name\": \"PCC\", \"sphere\": [0, -52]}]")])
        XCTAssertEqual(badSeeds.status, 2)
        XCTAssertTrue(badSeeds.stderr.contains("stages.connectivity.seeds") && badSeeds.stderr.contains("three MNI coordinates"), badSeeds.stderr)
    }

    /// Explicit file patterns instead of fMRIPrep discovery, with nilearn's EPI mask.
    func testExplicitFilePatternsAndEPIMask() throws {
        let folder = try temporary()
        let data = folder.appendingPathComponent("data").path
        XCTAssertEqual(try runPipe(["synth", "--out", data, "--subjects", "sub-01"]).status, 0)
        let base = "\(data)/derivatives/fmriprep/sub-{subject}/ses-{session}/func/sub-{subject}_ses-{session}_task-{task}"
        let study = folder.appendingPathComponent("patterns.json")
        try Data("""
            {"pipe": 1, "cohort": {"subjects": ["01"], "sessions": ["baseline", "day13"]},
             "stages": {"clean": {"kind": "clean", "mask": "epi", "confounds": "6P",
               "bold_pattern": "\(base)_space-{space}_desc-preproc_bold.nii.gz",
               "confounds_pattern": "\(base)_desc-confounds_timeseries.tsv",
               "sidecar_pattern": "\(base)_space-{space}_desc-preproc_bold.json"}}}
            """.utf8).write(to: study)
        let result = try runPipe(["run", study.path, "--quiet"])
        XCTAssertEqual(result.status, 0, result.stderr)
        for session in ["baseline", "day13"] {
            let stem = "out/clean/sub-01_ses-\(session)_task-rest_space-MNI152NLin2009cAsym_desc-clean"
            let info = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent(stem + "_timeseries.json"))) as! [String: Any]
            XCTAssertEqual(info["confoundColumns"] as? [String], ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"])
            let voxels = info["voxelCount"] as! Int
            // nilearn's EPI mask of the synthetic brain: most of the brain, not the whole grid.
            XCTAssertGreaterThan(voxels, 15_000)
            XCTAssertLessThan(voxels, 46 * 55 * 46 / 2)
        }
    }
}
