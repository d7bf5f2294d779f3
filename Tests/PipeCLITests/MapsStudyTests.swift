import Foundation
import NIfTI
import TestSupport
import XCTest

/// Group statistics on maps made elsewhere (`maps`): the real `pipe` binary on generated float32
/// maps with planted effects, read through a maps table with no upstream stage. Exhaustive
/// permutation (fewer relabelings than `permutations`) makes the max-T FWE p exact, and it must
/// equal an independent numpy enumeration (Tests/CrossCheck/stats_maps_permutation.py) voxel by
/// voxel; replacing one map file reruns only the tasks that read it; an `roi` stage follows up
/// the clusters of a `group` stage that reads the same maps.
final class MapsStudyTests: XCTestCase {
    /// 10 subjects (5 `a`, 5 `b`), sessions 1 and 2, on a 6×5×4 grid of 4 mm voxels: group `a`
    /// is higher by 3 in a 2×2×2 block at session 1, and every subject rises by 2 from session 1
    /// to 2 in another block; noise sd 0.4 elsewhere (seeded).
    static let shape = [6, 5, 4]
    static let subjects = (1...10).map { String(format: "%02d", $0) }
    static func group(_ subject: String) -> String { Int(subject)! <= 5 ? "a" : "b" }

    private func temporary() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-maps-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("maps"), withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder
    }

    /// A seeded standard normal (xorshift64* and Box–Muller).
    struct Gaussian {
        var state: UInt64
        mutating func uniform() -> Double {
            state ^= state >> 12; state ^= state << 25; state ^= state >> 27
            return Double((state &* 2685821657736338717) >> 11) / Double(1 << 53)
        }
        mutating func next() -> Double {
            let u = max(uniform(), 1e-12), v = uniform()
            return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
        }
    }

    static func map(subject: String, session: Int, seed: UInt64) -> [Float] {
        var g = Gaussian(state: seed &* 0x9E3779B97F4A7C15 | 1)
        var data = [Float](repeating: 0, count: shape.reduce(1, *))
        for k in 0..<shape[2] {
            for j in 0..<shape[1] {
                for i in 0..<shape[0] {
                    var v = 1 + 0.4 * g.next()
                    if session == 1 && group(subject) == "a" && i < 2 && j < 2 && k < 2 { v += 3 }
                    if session == 2 && i >= 4 && j >= 3 && k >= 2 { v += 2 }
                    data[i + shape[0] * (j + shape[1] * k)] = Float(v)
                }
            }
        }
        return data
    }

    static let affine = Affine(rows: [[4, 0, 0, -12], [0, 4, 0, -10], [0, 0, 4, -8], [0, 0, 0, 1]])

    static func writeMap(_ data: [Float], to url: URL) throws {
        try NIfTIFile.write(NIfTIImage(shape: shape, affine: affine, data: data), to: url.path)
    }

    /// The study folder: maps, participants.tsv, maps.tsv (named `pcc_maps.tsv`) and the spec.
    private func study(_ stages: String) throws -> (folder: URL, spec: String) {
        let folder = try temporary()
        var table = "participant_id\tsession\tpath\n"
        for (n, s) in Self.subjects.enumerated() {
            for session in [1, 2] {
                let name = "maps/sub-\(s)_ses-\(session)_z.nii.gz"
                try Self.writeMap(Self.map(subject: s, session: session, seed: UInt64(100 * n + session)), to: folder.appendingPathComponent(name))
                table += "sub-\(s)\t\(session)\t\(name)\n"
            }
        }
        try table.write(to: folder.appendingPathComponent("pcc_maps.tsv"), atomically: true, encoding: .utf8)
        try ("participant_id\tgroup\n" + Self.subjects.map { "sub-\($0)\t\(Self.group($0))\n" }.joined())
            .write(to: folder.appendingPathComponent("participants.tsv"), atomically: true, encoding: .utf8)
        let spec = """
        {
          "pipe": 1, "name": "maps-test", "cache": "cache", "outputs": "out",
          "cohort": {"participants": "participants.tsv"},
          "stages": {
        \(stages)
          }
        }
        """
        let url = folder.appendingPathComponent("study.json")
        try spec.write(to: url, atomically: true, encoding: .utf8)
        return (folder, url.path)
    }

    static let stages = """
        "diff": {"kind": "group", "maps": "pcc_maps.tsv", "participants": "participants.tsv", "session": "1",
                 "group": "group", "contrasts": ["a > b"], "permutations": 5000},
        "change": {"kind": "longitudinal", "maps": "pcc_maps.tsv", "seed": "PCC", "participants": "participants.tsv",
                   "pre": "1", "post": "2", "paired": ["all"], "permutations": 5000},
        "follow": {"kind": "roi", "from": ["diff"], "maps": "pcc_maps.tsv", "participants": "participants.tsv",
                   "pre": "1", "post": "2", "regions": [{"name": "diffcluster", "cluster": 1}], "permutations": 200}
        """

    private func plan(_ spec: String) throws -> [String: String] {
        let result = try runPipe(["plan", spec, "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let items = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [[String: Any]]
        return Dictionary(uniqueKeysWithValues: items.map { ($0["stage"] as! String, $0["status"] as! String) })
    }

    /// Runs the study; each stage's outputs, a group stage reading `maps` with no seed named by
    /// the table; then which tasks a replaced map file reruns.
    func testMapsStudyRunsAndReplacingAMapRerunsOnlyItsTasks() throws {
        let (folder, spec) = try study(Self.stages)
        let run = try runPipe(["run", spec, "--quiet"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let out = folder.appendingPathComponent("out")
        let group = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("diff/group_maps-pccmaps_ses-1_summary.json"))) as! [String: Any]
        XCTAssertEqual(group["maps"] as? String, "pcc_maps.tsv")
        XCTAssertEqual(group["subjects"] as? [String], Self.subjects)
        let contrast = (group["contrasts"] as! [[String: Any]])[0]
        XCTAssertEqual(contrast["exhaustive"] as? Bool, true)
        XCTAssertEqual(contrast["permutations"] as? Int, 252, "C(10, 5) relabelings")
        let clusters = contrast["significant_clusters"] as! [[String: Any]]
        XCTAssertEqual(clusters.count, 1, "\(clusters)")
        XCTAssertEqual(clusters.first?["size_voxels"] as? Int, 8)

        let change = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("change/longitudinal_seed-PCC_ses-2Minus1_summary.json"))) as! [String: Any]
        let paired = (change["paired"] as! [[String: Any]])[0]
        XCTAssertEqual(paired["exhaustive"] as? Bool, true)
        XCTAssertEqual(paired["permutations"] as? Int, 1024, "2^10 sign flips")
        XCTAssertEqual((paired["significant_clusters"] as? [[String: Any]])?.count, 1)

        // roi: the group's cluster, refit without each subject (the same maps), followed over both sessions.
        let roi = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("follow/roi_maps-pccmaps_summary.json"))) as! [String: Any]
        XCTAssertEqual(roi["subjects"] as? [String], Self.subjects.map { "sub-\($0)" })
        let values = try String(contentsOf: out.appendingPathComponent("follow/roi_maps-pccmaps_desc-values.tsv"), encoding: .utf8)
        XCTAssertTrue(values.contains("leave-one-out"), values)
        let rows = values.split(separator: "\n").dropFirst().map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        XCTAssertEqual(rows.count, 20, "10 subjects at 2 sessions")
        XCTAssertFalse(rows.contains { $0.contains("n/a") }, values)

        XCTAssertEqual(Set(try plan(spec).values), ["cached"])
        // A session-2 map: the longitudinal and roi tasks read it, the session-1 group task does not.
        try Self.writeMap(Self.map(subject: "03", session: 2, seed: 999), to: folder.appendingPathComponent("maps/sub-03_ses-2_z.nii.gz"))
        XCTAssertEqual(try plan(spec), ["diff": "cached", "change": "run", "follow": "run"])
        XCTAssertEqual(try runPipe(["run", spec, "--quiet"]).status, 0)
        // A session-1 map: every stage reads session 1.
        try Self.writeMap(Self.map(subject: "03", session: 1, seed: 998), to: folder.appendingPathComponent("maps/sub-03_ses-1_z.nii.gz"))
        XCTAssertEqual(try plan(spec), ["diff": "run", "change": "run", "follow": "pending"])
    }

    /// A group test of `a > b` with the covariate `site`, and an roi stage following its first
    /// cluster over both sessions, refit without each subject from the table `roiParticipants`.
    static func siteStages(roiParticipants: String) -> String {
        """
            "diff": {"kind": "group", "maps": "pcc_maps.tsv", "participants": "participants.tsv", "session": "1",
                     "group": "group", "covariates": ["site"], "contrasts": ["a > b"], "permutations": 200},
            "follow": {"kind": "roi", "from": ["diff"], "maps": "pcc_maps.tsv", "participants": "\(roiParticipants)",
                       "pre": "1", "post": "2", "regions": [{"name": "diffcluster", "cluster": 1}], "permutations": 0}
            """
    }

    /// A group design that fits every subject but not all without one: `site` is 2 for sub-03
    /// alone. The group test fits it and finds the planted cluster; the roi stage's leave-one-out
    /// refit without sub-03 cannot be fitted (site is then constant), so sub-03 has no value in
    /// the region, and the summary says why, while every other subject keeps its leave-one-out
    /// value. The stage does not stop after the group stage's permutations.
    func testALeaveOneOutFoldWhoseDesignCannotBeFittedLeavesThatSubjectWithoutAValue() throws {
        let (folder, spec) = try study(Self.siteStages(roiParticipants: "participants.tsv"))
        try ("participant_id\tgroup\tsite\n" + Self.subjects.map { "sub-\($0)\t\(Self.group($0))\t\($0 == "03" ? 2 : 1)\n" }.joined())
            .write(to: folder.appendingPathComponent("participants.tsv"), atomically: true, encoding: .utf8)
        let run = try runPipe(["run", spec, "--quiet"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let out = folder.appendingPathComponent("out")
        let group = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("diff/group_maps-pccmaps_ses-1_summary.json"))) as! [String: Any]
        let clusters = (group["contrasts"] as! [[String: Any]])[0]["significant_clusters"] as! [[String: Any]]
        XCTAssertFalse(clusters.isEmpty, "the planted cluster, which the roi stage refits")
        XCTAssertNil(group["no_map_at_session"] as? [String], "a maps table's rows at the session say who has a map")

        let roi = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("follow/roi_maps-pccmaps_summary.json"))) as! [String: Any]
        let definition = try XCTUnwrap((roi["regions"] as? [[String: Any]])?.first?["definition"] as? String)
        XCTAssertTrue(definition.hasSuffix("; the design cannot be fitted without sub-03 (is rank deficient: 3 columns (a, b, site) of rank 2 for 9 subjects)"),
                      definition)
        let region = try XCTUnwrap((roi["regions"] as? [[String: Any]])?.first)
        XCTAssertEqual(region["leave_one_out_without_region"] as? [String], ["sub-03"])
        XCTAssertEqual((region["leave_one_out_subjects"] as? [String])?.count, 10, "the group stage's subjects, sub-03 among them")
        let values = try String(contentsOf: out.appendingPathComponent("follow/roi_maps-pccmaps_desc-values.tsv"), encoding: .utf8)
        let rows = values.split(separator: "\n").dropFirst().map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        XCTAssertEqual(rows.count, 20, values)
        for row in rows {
            XCTAssertEqual(row[3] == "n/a", row[0] == "sub-03", "\(row): only sub-03 has no value")
            XCTAssertEqual(row[4], "leave-one-out", "\(row)")
        }
    }

    /// The refit builds the group stage's design from the roi stage's own participants table.
    /// When that is another file, it needs the design's columns and a value in them for each
    /// subject the group stage tests, whether the roi stage reads it or not: spec errors at its
    /// `participants`, once.
    func testTheRefitsParticipantsTableNeedsTheGroupDesignsColumns() throws {
        let (folder, spec) = try study(Self.siteStages(roiParticipants: "participants-roi.tsv"))
        func write(_ name: String, site: (String) -> String?) throws {
            try ("participant_id\tgroup" + (site("01") == nil ? "" : "\tsite") + "\n"
                 + Self.subjects.map { "sub-\($0)\t\(Self.group($0))" + (site($0).map { "\t\($0)" } ?? "") + "\n" }.joined())
                .write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        try write("participants.tsv") { $0 == "03" ? "2" : "1" }
        try write("participants-roi.tsv") { _ in nil }
        let noColumn = try runPipe(["validate", spec])
        XCTAssertEqual(noColumn.status, 2, noColumn.stderr)
        XCTAssertEqual(noColumn.stderr.split(separator: "\n").filter { $0.contains("study.json:") }.map(keyed), [
            "follow.participants: participants-roi.tsv has no column 'site', which stage diff's design uses: its clusters are refit without each "
                + "subject from this stage's table (read the group stage's table, or set leave_one_out to off)",
        ])
        try write("participants-roi.tsv") { $0 == "05" ? "n/a" : $0 == "03" ? "2" : "1" }
        let gap = try runPipe(["validate", spec])
        XCTAssertEqual(gap.status, 2, gap.stderr)
        XCTAssertEqual(gap.stderr.split(separator: "\n").filter { $0.contains("study.json:") }.map(keyed), [
            "follow.participants: in participants-roi.tsv's column site, sub-05 has no value; stage diff's design needs a value for every subject "
                + "it tests: its clusters are refit without each subject from this stage's table (fill them in, read the group stage's table, "
                + "or set leave_one_out to off)",
        ])
        // The roi stage leaves sub-05 out, but the group stage tests sub-05, so every fold's
        // design needs its site: the same mistake, found before the group stage's permutations.
        let text = try String(contentsOfFile: spec, encoding: .utf8)
        try text.replacingOccurrences(of: #""participants": "participants-roi.tsv","#,
                                      with: #""participants": "participants-roi.tsv", "include": {"site": ["1", "2"]},"#)
            .write(toFile: spec, atomically: true, encoding: .utf8)
        let run = try runPipe(["run", spec, "--quiet"])
        XCTAssertEqual(run.status, 2, run.stderr)
        XCTAssertEqual(run.stderr.split(separator: "\n").filter { $0.contains("study.json:") }.map(keyed), gap.stderr.split(separator: "\n")
                        .filter { $0.contains("study.json:") }.map(keyed), "the run stops at the spec check, with validate's message")
        // The refit reads the group stage's session among this stage's maps: a stage that reads
        // only the other session cannot refit it.
        try text.replacingOccurrences(of: #""pre": "1", "post": "2""#, with: #""pre": "2""#).write(toFile: spec, atomically: true, encoding: .utf8)
        let otherSession = try runPipe(["validate", spec])
        XCTAssertEqual(otherSession.status, 2, otherSession.stderr)
        XCTAssertEqual(otherSession.stderr.split(separator: "\n").filter { $0.contains("study.json:") }.map(keyed).filter { $0.hasPrefix("follow.pre") }, [
            "follow.pre: stage diff tests the maps at session 1, and this stage reads 2: its clusters are refit without each subject on the maps "
                + "it tested, so read 1 as pre or post (or set leave_one_out to off)",
        ])
        // With the group stage's own table, the refit runs and sub-03's fold is the one that
        // cannot be fitted.
        try text.replacingOccurrences(of: "participants-roi.tsv", with: "participants.tsv").write(toFile: spec, atomically: true, encoding: .utf8)
        let same = try runPipe(["run", spec, "--quiet"])
        XCTAssertEqual(same.status, 0, same.stderr)
    }

    /// A longitudinal stage builds every model before its first permutation: a paired level
    /// with too few subjects stops the task before the level listed before it is tested (its
    /// log has no test's line), not after.
    func testALongitudinalLevelWithTooFewSubjectsStopsBeforeAnyPermutation() throws {
        let (folder, spec) = try study("""
            "change": {"kind": "longitudinal", "maps": "pcc_maps.tsv", "participants": "participants.tsv",
                       "pre": "1", "post": "2", "group": "group", "paired": ["all", "c"], "permutations": 5000}
            """)
        try ("participant_id\tgroup\n" + Self.subjects.map { "sub-\($0)\t\(Int($0)! >= 9 ? "c" : Self.group($0))\n" }.joined())
            .write(to: folder.appendingPathComponent("participants.tsv"), atomically: true, encoding: .utf8)
        let run = try runPipe(["run", spec, "--quiet"])
        XCTAssertEqual(run.status, 1, run.stderr)
        XCTAssertTrue(run.stderr.contains("level 'c' has 2 subjects with both sessions; a paired test needs 3"), run.stderr)
        let logs = folder.appendingPathComponent("cache/logs")
        let files = try FileManager.default.contentsOfDirectory(atPath: logs.path)
        XCTAssertFalse(files.isEmpty)
        for file in files {
            let log = try String(contentsOf: logs.appendingPathComponent(file), encoding: .utf8)
            XCTAssertFalse(log.contains("mean: max |t|"), "the 'all' test ran before the failing level: \(log)")
        }
    }

    /// A study with only a group stage: replacing one map reruns the group task, and only when the
    /// bytes change (the map's content digest is in the task key, not its time stamp).
    func testReplacingOneMapRerunsTheGroupTask() throws {
        let (folder, spec) = try study("""
            "diff": {"kind": "group", "maps": "pcc_maps.tsv", "participants": "participants.tsv", "session": "1",
                     "group": "group", "contrasts": ["a > b"], "permutations": 100, "tfce": false}
            """)
        XCTAssertEqual(try runPipe(["run", spec, "--quiet"]).status, 0)
        let file = folder.appendingPathComponent("maps/sub-07_ses-1_z.nii.gz")
        let bytes = try Data(contentsOf: file)
        try FileManager.default.removeItem(at: file)
        try bytes.write(to: file)
        XCTAssertEqual(try plan(spec), ["diff": "cached"])
        try Self.writeMap(Self.map(subject: "07", session: 1, seed: 4242), to: file)
        XCTAssertEqual(try plan(spec), ["diff": "run"])
    }

    /// The exhaustive max-T FWE p of the two-sample group stage and of the paired longitudinal
    /// stage equal an independent numpy enumeration of every relabeling / sign flip, exactly: the
    /// same count of relabelings at or above each voxel's |t| (so the same p = count / N, and the map
    /// holds Float(−log10(count / N)) bit for bit); the summary's smallest p is count / N too.
    func testExhaustiveFWEPMatchesNumpyEnumeration() throws {
        let python = try crossCheckPython(modules: ["numpy", "nibabel"])
        let (folder, spec) = try study(Self.stages)
        let run = try runPipe(["run", spec, "--quiet"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let script = testPackageRoot.appendingPathComponent("Tests/CrossCheck/stats_maps_permutation.py").path
        let out = folder.appendingPathComponent("out")
        let cases: [(args: [String], map: String, summary: String, path: (([String: Any]) -> [String: Any]))] = [
            (["twosample", "a", "b", "1"], "diff/group_maps-pccmaps_ses-1_contrast-aGtb_stat-logpFWE_desc-maxT_statmap.nii.gz",
             "diff/group_maps-pccmaps_ses-1_summary.json", { ($0["contrasts"] as! [[String: Any]])[0] }),
            (["paired", "1", "2"], "change/longitudinal_seed-PCC_ses-2Minus1_group-all_contrast-mean_stat-logpFWE_desc-maxT_statmap.nii.gz",
             "change/longitudinal_seed-PCC_ses-2Minus1_summary.json", { ($0["paired"] as! [[String: Any]])[0] }),
        ]
        for c in cases {
            let reference = try runProcess(python, [script, c.args[0], folder.path, "pcc_maps.tsv"] + c.args.dropFirst())
            XCTAssertEqual(reference.status, 0, reference.output)
            let counts = try readFloat64(folder.appendingPathComponent("count.f64"))
            let ps = try readFloat64(folder.appendingPathComponent("p.f64"))
            let n = try readFloat64(folder.appendingPathComponent("n.f64"))[0]
            let logp = try NIfTIFile.read(out.appendingPathComponent(c.map).path).data
            XCTAssertEqual(counts.count, logp.count)
            var compared = 0
            for (v, count) in counts.enumerated() where count >= 0 {
                let p = pow(10, -Double(logp[v]))
                XCTAssertEqual((p * n).rounded(), count, "\(c.args[0]) voxel \(v): pipe p \(p), numpy \(count)/\(n)")
                XCTAssertEqual(logp[v], Float(-log10(count / n)), "\(c.args[0]) voxel \(v)")
                compared += 1
            }
            XCTAssertEqual(compared, Self.shape.reduce(1, *))
            let summary = c.path(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent(c.summary))) as! [String: Any])
            XCTAssertEqual(summary["permutations"] as? Int, Int(n))
            // Foundation writes JSON numbers with 15 significant digits, so the summary's p is count / N to 1e-15.
            let minP = try XCTUnwrap(ps.filter { $0 >= 0 }.min())
            XCTAssertEqual(try XCTUnwrap(summary["min_p_fwe_maxT"] as? Double), minP, accuracy: minP * 1e-14, "\(c.args[0]): the smallest FWE p")
            print("\(c.args[0]): \(compared) voxels, N = \(Int(n)), max-T FWE p equal to the numpy enumeration; min p \(ps.filter { $0 >= 0 }.min()!)")
        }
    }

    /// An roi stage on maps of which one is on a grid shifted by a voxel: without `resample` the
    /// task fails naming that file; with `"resample": "nearest"` it runs, and since the shift is
    /// whole voxels, every value equals the one read from the map on the common grid.
    func testROIResamplesAMapOnAnotherGridWhenAsked() throws {
        let follow = """
            "follow": {"kind": "roi", "maps": "pcc_maps.tsv", "participants": "participants.tsv", "pre": "1", "post": "2",
                       "regions": [{"name": "rise", "sphere": [6, 4, 2], "radius": 4}], "permutations": 0}
            """
        let (folder, spec) = try study(follow)
        XCTAssertEqual(try runPipe(["run", spec, "--quiet"]).status, 0)
        let valuesURL = folder.appendingPathComponent("out/follow/roi_maps-pccmaps_desc-values.tsv")
        let onGrid = try String(contentsOf: valuesURL, encoding: .utf8)
        XCTAssertEqual(onGrid.split(separator: "\n").count, 21, onGrid)

        // sub-03's session-2 map, stored one voxel further along x: the same world values.
        let data = Self.map(subject: "03", session: 2, seed: 100 * 2 + 2)
        var shifted = [Float](repeating: 1, count: data.count)
        for k in 0..<Self.shape[2] { for j in 0..<Self.shape[1] { for i in 0..<(Self.shape[0] - 1) {
            shifted[i + Self.shape[0] * (j + Self.shape[1] * k)] = data[i + 1 + Self.shape[0] * (j + Self.shape[1] * k)]
        } } }
        var rows = Self.affine.rows
        rows[0][3] += 4
        let moved = folder.appendingPathComponent("maps/sub-03_ses-2_z.nii.gz")
        try NIfTIFile.write(NIfTIImage(shape: Self.shape, affine: Affine(rows: rows), data: shifted), to: moved.path)

        let refused = try runPipe(["run", spec, "--quiet"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("sub-03_ses-2_z.nii.gz") && refused.stderr.contains("\"resample\""), refused.stderr)

        let text = try String(contentsOfFile: spec, encoding: .utf8)
        try text.replacingOccurrences(of: "\"permutations\": 0", with: "\"permutations\": 0, \"resample\": \"nearest\"").write(toFile: spec, atomically: true, encoding: .utf8)
        let run = try runPipe(["run", spec, "--quiet"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(try String(contentsOf: valuesURL, encoding: .utf8), onGrid)
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("out/follow/roi_maps-pccmaps_summary.json"))) as! [String: Any]
        XCTAssertEqual(summary["resample"] as? String, "nearest")
    }

    /// An roi stage resampling its maps follows up a group cluster refitted without each subject
    /// on the group stage's grid: with its first map (sub-01 at session 2) a voxel off, the values
    /// are those read when every map was on the grid. And a cohort that lists fewer subjects than
    /// the maps table does not narrow the design the spec check fits (the maps stages read the
    /// table's subjects).
    func testROIResamplingFollowsAClusterOnTheGroupsGrid() throws {
        let stages = """
            "diff": {"kind": "group", "maps": "pcc_maps.tsv", "participants": "participants.tsv", "session": "1",
                     "group": "group", "contrasts": ["a > b"], "permutations": 200},
            "follow": {"kind": "roi", "from": ["diff"], "maps": "pcc_maps.tsv", "participants": "participants.tsv",
                       "pre": "2", "post": "1", "regions": [{"name": "diffcluster", "cluster": 1}], "permutations": 0, "resample": "nearest"}
            """
        let (folder, spec) = try study(stages)
        XCTAssertEqual(try runPipe(["run", spec, "--quiet"]).status, 0)
        let valuesURL = folder.appendingPathComponent("out/follow/roi_maps-pccmaps_desc-values.tsv")
        let onGrid = try String(contentsOf: valuesURL, encoding: .utf8)
        XCTAssertTrue(onGrid.contains("leave-one-out"), onGrid)

        // One voxel towards -x: the cluster's block (the lowest x) stays covered.
        let data = Self.map(subject: "01", session: 2, seed: 2)
        var shifted = [Float](repeating: 1, count: data.count)
        for k in 0..<Self.shape[2] { for j in 0..<Self.shape[1] { for i in 1..<Self.shape[0] {
            shifted[i + Self.shape[0] * (j + Self.shape[1] * k)] = data[i - 1 + Self.shape[0] * (j + Self.shape[1] * k)]
        } } }
        var rows = Self.affine.rows
        rows[0][3] -= 4
        try NIfTIFile.write(NIfTIImage(shape: Self.shape, affine: Affine(rows: rows), data: shifted),
                            to: folder.appendingPathComponent("maps/sub-01_ses-2_z.nii.gz").path)
        let run = try runPipe(["run", spec, "--quiet"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(try String(contentsOf: valuesURL, encoding: .utf8), onGrid)

        // The cohort: group a only; the group stage still compares a and b from the table.
        let text = try String(contentsOfFile: spec, encoding: .utf8)
        try text.replacingOccurrences(of: #""cohort": {"participants": "participants.tsv"}"#,
                                      with: #""cohort": {"participants": "participants.tsv", "include": {"group": ["a"]}}"#)
            .write(toFile: spec, atomically: true, encoding: .utf8)
        let check = try runPipe(["validate", spec])
        XCTAssertEqual(check.status, 0, check.stderr)
    }

    /// A covariate's values are checked for the subjects the maps table has: a participant with
    /// no map and no age is not held against the stage, one with a map is.
    func testCovariateValuesAreCheckedForTheSubjectsWithMaps() throws {
        let (folder, spec) = try study("""
            "diff": {"kind": "group", "maps": "pcc_maps.tsv", "participants": "participants.tsv", "session": "1",
                     "group": "group", "covariates": ["age"], "contrasts": ["a > b"], "permutations": 100}
            """)
        func participants(_ ages: [String: String]) throws {
            try ("participant_id\tgroup\tage\n" + (Self.subjects + ["11"]).map { "sub-\($0)\t\(Self.group($0))\t\(ages[$0] ?? String(30 + Int($0)!))\n" }.joined())
                .write(to: folder.appendingPathComponent("participants.tsv"), atomically: true, encoding: .utf8)
        }
        try participants(["11": "n/a"])
        let ok = try runPipe(["validate", spec])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        // sub-11 with a map at session 2 only: a session-1 test does not read it.
        let table = folder.appendingPathComponent("pcc_maps.tsv")
        let rows = try String(contentsOf: table, encoding: .utf8)
        try Self.writeMap(Self.map(subject: "11", session: 2, seed: 7), to: folder.appendingPathComponent("maps/sub-11_ses-2_z.nii.gz"))
        try (rows + "sub-11\t2\tmaps/sub-11_ses-2_z.nii.gz\n").write(to: table, atomically: true, encoding: .utf8)
        let other = try runPipe(["validate", spec])
        XCTAssertEqual(other.status, 0, other.stderr)
        try participants(["11": "n/a", "04": "n/a"])
        let bad = try runPipe(["validate", spec])
        XCTAssertEqual(bad.status, 2, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("stages.diff.covariates[0]: in participants.tsv's column age, sub-04 has no value"), bad.stderr)
        XCTAssertFalse(bad.stderr.contains("sub-11"), bad.stderr)
    }

    /// An roi sphere region with no voxel on the maps' grid stops the stage, naming the region
    /// (it gave n/a values); with a maps table this is found when the stage runs.
    func testAnROISphereOffTheMapsGridIsAnError() throws {
        let (_, spec) = try study("""
            "follow": {"kind": "roi", "maps": "pcc_maps.tsv", "participants": "participants.tsv", "pre": "1", "post": "2",
                       "regions": [{"name": "far", "sphere": [0, 0, 500], "radius": 5}], "permutations": 0}
            """)
        let run = try runPipe(["run", spec, "--quiet"])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.stderr.contains("regions[0].sphere: no voxel of the maps' grid lies within 5.0 mm of [0.0, 0.0, 500.0]"), run.stderr)
    }

    /// Plan-time errors of `maps`, each at its spec line: a missing map file, a subject not in
    /// participants.tsv, a session the table does not have; and neither `from` nor `maps`.
    func testMapsProblemsAreSpecErrors() throws {
        let (folder, spec) = try study("""
            "diff": {"kind": "group", "maps": "pcc_maps.tsv", "participants": "participants.tsv", "session": "3",
                     "group": "group", "contrasts": ["a > b"]},
            "bare": {"kind": "group", "seed": "PCC", "participants": "participants.tsv", "group": "group", "contrasts": ["a > b"]}
            """)
        var bad = try runPipe(["validate", spec])
        XCTAssertEqual(bad.status, 2, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("stages.diff.session") && bad.stderr.contains("no map of pcc_maps.tsv is at session '3'"), bad.stderr)
        XCTAssertTrue(bad.stderr.contains("stages.bare.from") && bad.stderr.contains("give maps"), bad.stderr)

        let tableURL = folder.appendingPathComponent("pcc_maps.tsv")
        try (try String(contentsOf: tableURL, encoding: .utf8) + "sub-99\t1\tmaps/sub-99_ses-1_z.nii.gz\n").write(to: tableURL, atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(at: folder.appendingPathComponent("maps/sub-04_ses-1_z.nii.gz"))
        let fixed = try String(contentsOf: URL(fileURLWithPath: spec), encoding: .utf8)
            .replacingOccurrences(of: "\"session\": \"3\"", with: "\"session\": \"1\"")
            .replacingOccurrences(of: "\"bare\": {\"kind\": \"group\", \"seed\": \"PCC\",", with: "\"bare\": {\"kind\": \"group\", \"maps\": \"none.tsv\",")
        try fixed.write(toFile: spec, atomically: true, encoding: .utf8)
        bad = try runPipe(["validate", spec])
        XCTAssertEqual(bad.status, 2, bad.stderr)
        let line = fixed.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("\"diff\"") }! + 1
        XCTAssertTrue(bad.stderr.contains("study.json:\(line):"), bad.stderr)
        XCTAssertTrue(bad.stderr.contains("map files not found: line 8: maps/sub-04_ses-1_z.nii.gz, line 22: maps/sub-99_ses-1_z.nii.gz"), bad.stderr)
        XCTAssertTrue(bad.stderr.contains("not in participants.tsv: sub-99 (line 22)"), bad.stderr)
        XCTAssertTrue(bad.stderr.contains("stages.bare.maps") && bad.stderr.contains("none.tsv is not a readable file"), bad.stderr)
    }
}
