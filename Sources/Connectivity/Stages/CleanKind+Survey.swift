import Foundation
import NIfTI
import PipelineEngine

/// The plan-time check of every run of a `clean` stage, not only the first: a run that differs
/// from the others (a confounds file from another fMRIPrep version, a run cut short, a sidecar
/// with another TR, a subject on another grid) fails before any task starts, instead of after
/// hours of cleaning, and each problem is reported once, with the runs it concerns.
extension CleanKind {
    /// What the check reads of each run whose BOLD file exists now: the image header (grid,
    /// repetition time, length) and the confounds file's header line and row count, in parallel.
    /// Each run is read in full, and checked again, when it is cleaned.
    struct RunSurvey: Sendable {
        struct Run: Sendable {
            var scope: Scope
            var files: [String: String]
            var header: NIfTIHeader
            /// The run's files as cleaning reads them (absolute paths; the TR and dummy-scan settings).
            var request: ScanLoader.Request
            /// The repetition time, as cleaning reads it (`tr_source`, `repetition_time`).
            var repetitionTime: Result<Double, InputError>
            /// The confounds file's column names and rows, or why it cannot be read; nil without
            /// a confounds file.
            var confounds: Result<ConfoundsShape, InputError>?

            var label: String { scope.label }
            var grid: Grid { Grid(shape: Array(header.shape.prefix(3)), affine: header.affine) }
        }

        struct ConfoundsShape: Sendable {
            var path: String
            var names: [String]
            var rows: Int
            /// A column name the header line has twice (the reader refuses the file).
            var duplicate: String?
            /// The first line whose cells are not one per column (the reader refuses the file).
            var uneven: (line: Int, cells: Int)? = nil
            /// The first cell that is neither a number nor n/a (the reader refuses the file).
            var invalidCell: (line: Int, column: String, text: String)? = nil
            /// Columns that cleaning could not use as a regressor or scrubbing column, with the
            /// first line concerned: counting from the first row after the dummy scans, n/a after
            /// the first number (only leading n/a are filled), an infinite value, or no number
            /// at all (`ConfoundsTable.selecting`).
            var unusable: [String: Unusable] = [:]
            /// Columns with no number past the first row after the dummy scans: nothing measured
            /// from one volume to the next (framewise displacement, which
            /// `ScanQuality.framewiseDisplacement` reads from the second row on) comes from them.
            var numberlessPastFirstRow: Set<String> = []

            /// Why a column is unusable, from its first line concerned.
            struct Unusable: Sendable {
                enum Reason: Sendable { case missingAfterNumber, infinite, noNumber }
                var line: Int
                var reason: Reason
                var words: String {
                    switch reason {
                    case .missingAfterNumber: "a missing value (n/a, an empty cell or NaN) after its first number (only leading missing values are filled)"
                    case .infinite: "an infinite value"
                    case .noNumber: "no number after the dummy scans"
                    }
                }
            }
        }

        /// A 3-D grid: maps on two grids cannot be compared voxel by voxel (`GroupMaps.load`
        /// compares them with the same tolerance).
        struct Grid: Sendable {
            var shape: [Int]
            var affine: Affine

            func matches(_ other: Grid) -> Bool { shape == other.shape && affine.isClose(to: other.affine, tolerance: 1e-4) }

            var description: String {
                let spacing = (0..<3).map { axis in (0..<3).map { affine[$0, axis] * affine[$0, axis] }.reduce(0, +).squareRoot() }
                func mm(_ x: Double) -> String { JSONValue.format(number: (x * 1000).rounded() / 1000) }
                return shape.map(String.init).joined(separator: "×") + " at " + spacing.map(mm).joined(separator: "×") + " mm, origin ("
                    + (0..<3).map { mm(affine[$0, 3]) }.joined(separator: ", ") + ")"
            }
        }

        var runs: [Run] = []
        /// Runs whose BOLD file exists but whose header cannot be read, with the reason.
        var unreadable: [(label: String, message: String)] = []
        /// Runs whose BOLD file holds less data than its header declares (or is corrupt), with
        /// the reason: reading it would stop the run's clean task.
        var cutShort: [(label: String, message: String)] = []
        /// Runs whose gzip trailer does not give the file's length, when there are more than
        /// `maxInflated` of them (several gzip members, most likely): checked when they are read.
        var unverified: [String] = []
        /// Mask files cleaning would read (each run's brain mask, or the `mask` file) that cannot
        /// be read, with why and the runs that use them.
        var unreadableMasks: [(path: String, problem: String, runs: [String])] = []
        /// BOLD files whose gzip trailer does not agree with their header are read whole (each
        /// about as long as reading the run) when there are at most this many; more are a data
        /// set written in several gzip members, left to the runs.
        static let maxInflated = 4
    }

    /// The survey of the stage's runs, read once per check however many stages ask for it.
    func survey(_ p: Parameters, stage: StageSpec, study: StudyCheck) -> RunSurvey {
        study.memo("clean survey: \(stage.name)") {
            let scans = study.spec.cohort.scans
            var results = parallelMap(scans.count, block: 16) {
                Self.surveyRun(p, scope: scans[$0], files: try? sources(p, scope: scans[$0], directory: study.spec.directory), study: study)
            }
            // The files whose trailer disagrees, read whole when they are few (the same ones
            // whatever the threads' timing).
            let differing = results.indices.filter { results[$0].trailerDiffers != nil }
            if differing.count <= RunSurvey.maxInflated {
                let verdicts = parallelMap(differing.count, block: 1) { k -> String? in
                    let (bold, path) = results[differing[k]].trailerDiffers!
                    do { try NIfTIFile.checkComplete(path) } catch { return "\(bold): \(NIfTIReadProblem(error).reason)" }
                    return nil
                }
                for (k, i) in differing.enumerated() { results[i].cutShort = verdicts[k] }
            }
            var survey = RunSurvey()
            for (i, result) in results.enumerated() {
                if let run = result.run { survey.runs.append(run) }
                if let problem = result.unreadable { survey.unreadable.append((scans[i].label, problem)) }
                if let problem = result.cutShort { survey.cutShort.append((scans[i].label, problem)) }
                if result.trailerDiffers != nil && differing.count > RunSurvey.maxInflated { survey.unverified.append(scans[i].label) }
            }
            // The masks cleaning reads, each file once: its header, and its data when the gzip
            // trailer does not record its length (masks are small).
            do {
                var masks: [String] = [], users: [String: [String]] = [:]
                for run in survey.runs {
                    guard let mask = p.maskFile(in: run.files) else { continue }
                    if users[mask] == nil { masks.append(mask) }
                    users[mask, default: []].append(run.label)
                }
                let problems = parallelMap(masks.count, block: 8) { k -> String? in
                    let path = study.path(masks[k])
                    guard case .regular = FileSystem.kind(of: path) else { return nil }  // a missing file is reported as a source
                    do { try NIfTIFile.checkWhole(path) } catch {
                        return NIfTIReadProblem(error).reason
                    }
                    return nil
                }
                for (k, mask) in masks.enumerated() {
                    if let problem = problems[k] { survey.unreadableMasks.append((mask, problem, users[mask]!)) }
                }
            }
            return survey
        }
    }

    /// What the survey learns of one run: the run (nil when its BOLD header cannot be read or it
    /// has no BOLD file), or why the header cannot be read, or why its data is not all there.
    private struct Surveyed {
        var run: RunSurvey.Run?
        var unreadable: String?
        var cutShort: String?
        /// The BOLD file (as the spec names it, and its path) when its gzip trailer records
        /// another length than its header declares: cut short, or several gzip members.
        var trailerDiffers: (bold: String, path: String)?
    }

    private static func surveyRun(_ p: Parameters, scope: Scope, files: [String: String]?, study: StudyCheck) -> Surveyed {
        guard let files, let bold = files["bold"] else { return Surveyed() }
        let boldPath = study.path(bold)
        guard case .regular = FileSystem.kind(of: boldPath) else { return Surveyed() }  // a missing file is reported as a source
        let info: NIfTIFileInfo
        do { info = try NIfTIFile.readHeader(boldPath) } catch let e as NIfTIError where e.code == .dataExceedsFile {
            // Smaller than its data (uncompressed), or than deflate can expand to it (gzip).
            return Surveyed(cutShort: "\(bold): \(NIfTIReadProblem(e).reason)")
        } catch {
            return Surveyed(unreadable: "\(bold): \(ErrorReason.of(error))")
        }
        let header = info.header
        // The data's length, from the gzip trailer (where it does not tell, `survey` reads the
        // file whole when there are few such).
        var cutShort: String?, trailerDiffers: (bold: String, path: String)?
        do {
            if case .trailerDiffers = try NIfTIFile.trailerAgrees(info) { trailerDiffers = (bold, boldPath) }
        } catch {
            cutShort = "\(bold): \(NIfTIReadProblem(error).reason)"
        }
        var request = ScanLoader.Request(bold: boldPath, sidecar: files["sidecar"].map(study.path).flatMap { FileSystem.exists($0) ? $0 : nil },
                                         dummyScans: p.dummyScans, repetitionTimeSource: p.trSource)
        request.repetitionTimeOverride = p.repetitionTime > 0 ? p.repetitionTime : nil
        let tr: Result<Double, InputError>
        do { tr = .success(try ScanLoader.repetitionTime(request, header: header)) } catch let e as InputError { tr = .failure(e) } catch {
            tr = .failure(InputError(path: bold, "\(error)"))
        }
        let confounds = files["confounds"].map(study.path).flatMap { confoundsShape($0, dummyScans: p.dummyScans) }
        return Surveyed(run: RunSurvey.Run(scope: scope, files: files, header: header, request: request, repetitionTime: tr, confounds: confounds),
                        cutShort: cutShort, trailerDiffers: trailerDiffers)
    }

    /// A confounds file's column names and row count, and its cells checked as the reader reads
    /// them (a number, or n/a) without converting those that are plainly decimal numbers; a
    /// headerless SPM or AFNI file read in full (they are small). Nil when there is no file.
    /// - Parameter dummyScans: the rows cleaning drops first, before it fills leading n/a.
    static func confoundsShape(_ path: String, dummyScans: Int = 0) -> Result<RunSurvey.ConfoundsShape, InputError>? {
        guard case .regular = FileSystem.kind(of: path), let bytes = try? FileSystem.read(path) else { return nil }
        return bytes.withUnsafeBufferPointer { b -> Result<RunSurvey.ConfoundsShape, InputError>? in
            let start = b.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
            // Lines end in LF, CRLF or CR, as TSVTable reads them; blank lines at the end are not rows.
            func isBreak(_ i: Int) -> Bool { b[i] == 0x0A || b[i] == 0x0D }
            var end = b.count
            while end > start && isBreak(end - 1) { end -= 1 }
            var firstEnd = start
            while firstEnd < end && !isBreak(firstEnd) { firstEnd += 1 }
            guard firstEnd > start else { return .failure(InputError(path: path, "empty confounds file; expected a header line of column names")) }
            let first = String(decoding: UnsafeBufferPointer(rebasing: b[start..<firstEnd]), as: UTF8.self)
            // A headerless file (numbers, or a comment, first: `ConfoundsTable.readHeaderless`).
            if first.trimmingCharacters(in: .whitespaces).hasPrefix("#")
                || first.split(whereSeparator: { $0 == "\t" || $0 == " " || $0 == "," }).allSatisfy({ Double($0) != nil }) {
                do {
                    guard let (t, lines) = try ConfoundsTable.readHeaderlessRows(path) else { return nil }  // the reader finds no rows either
                    // Every cell is a number (the reader refuses anything else), but `nan` and
                    // `inf` are numbers to it too: each column (and each derived motion column)
                    // classified after the dummy scans, as for a file with a header line.
                    var unusable: [String: RunSurvey.ConfoundsShape.Unusable] = [:], numberless: Set<String> = []
                    if t.rowCount > dummyScans {
                        for name in t.names {
                            var state: UInt8 = 0
                            for (k, v) in t.columns[name]!.enumerated().dropFirst(dummyScans) {
                                let value: CellValue = v.isNaN ? .missing : v.isFinite ? .finite : .infinite
                                state = Self.usability(after: state, value)
                                if state == 2 { unusable[name] = .init(line: lines[k], reason: value == .infinite ? .infinite : .missingAfterNumber); break }
                            }
                            if state == 0 { unusable[name] = .init(line: lines[dummyScans], reason: .noNumber) }
                        }
                    }
                    for name in t.names where !t.columns[name]!.dropFirst(dummyScans + 1).contains(where: \.isFinite) { numberless.insert(name) }
                    return .success(RunSurvey.ConfoundsShape(path: path, names: t.names, rows: t.rowCount, unusable: unusable,
                                                             numberlessPastFirstRow: numberless))
                } catch let e as InputError { return .failure(e) } catch { return nil }
            }
            let names = first.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            var seen: Set<String> = []
            let duplicate = names.first { !seen.insert($0).inserted }
            // Rows, and the first whose cells (tabs + 1) are not one per column, as the reader
            // refuses it (`ConfoundsTable.read`). Row k is line k + 1. Each cell of a row after
            // the dummy scans is classified as the reader and `ConfoundsTable.selecting` take it.
            var rows = 0, uneven: (line: Int, cells: Int)?
            var invalid: (line: Int, column: Int, lo: Int, hi: Int)?
            // Per column: its usability (0 only n/a so far, 1 a number seen, 2 unusable), the line
            // that made it unusable, and whether it has a number past the first kept row.
            struct Column { var state: UInt8 = 0; var problem = 0; var infinite = false; var numbered = false }
            var column = [Column](repeating: Column(), count: names.count)
            let base = b.baseAddress!, columns = names.count
            column.withUnsafeMutableBufferPointer { column in
                var i = firstEnd, tabs = 0
                while i < end {
                    // i is at a separator: a tab, or the break before row `rows + 1`.
                    if base[i] == 0x09 {
                        tabs += 1
                    } else {
                        if rows > 0 && uneven == nil && tabs + 1 != columns { uneven = (rows + 1, tabs + 1) }
                        if base[i] == 0x0D && i + 1 < end && base[i + 1] == 0x0A { i += 1 }
                        rows += 1; tabs = 0
                    }
                    // The cell after it, up to the next separator. A cell past the header's
                    // columns is the uneven line's problem; a dummy scan's row matters only
                    // until an invalid cell is found (the reader reads every row).
                    let (value, next) = Self.classify(base, from: i + 1, end: end)
                    let kept = rows > dummyScans
                    if tabs < columns && (kept || invalid == nil) {
                        if value == .invalid {
                            if invalid == nil { invalid = (rows + 1, tabs, i + 1, next) }
                        } else if kept {
                            if column[tabs].state != 2 {
                                column[tabs].state = Self.usability(after: column[tabs].state, value)
                                if column[tabs].state == 2 { column[tabs].problem = rows + 1; column[tabs].infinite = value == .infinite }
                            }
                            if value == .finite && rows > dummyScans + 1 { column[tabs].numbered = true }
                        }
                    }
                    i = next
                }
                if rows > 0 && uneven == nil && tabs + 1 != columns { uneven = (rows + 1, tabs + 1) }
            }
            let invalidCell = invalid.map { (line: $0.line, column: names[$0.column],
                                             text: String(decoding: UnsafeBufferPointer(start: base + $0.lo, count: min($0.hi - $0.lo, 40)), as: UTF8.self)) }
            var unusable: [String: RunSurvey.ConfoundsShape.Unusable] = [:]
            if rows > dummyScans {
                for (k, name) in names.enumerated() where column[k].state != 1 {
                    unusable[name] = column[k].state == 2 ? .init(line: column[k].problem, reason: column[k].infinite ? .infinite : .missingAfterNumber)
                        : .init(line: dummyScans + 2, reason: .noNumber)
                }
            }
            return .success(RunSurvey.ConfoundsShape(path: path, names: names, rows: rows, duplicate: duplicate, uneven: uneven,
                                                     invalidCell: invalidCell, unusable: unusable,
                                                     numberlessPastFirstRow: Set(names.indices.filter { !column[$0].numbered }.map { names[$0] })))
        }
    }

    /// A confounds cell as the reader takes it (`ConfoundsTable.read`, then `selecting`).
    enum CellValue { case finite, missing, infinite, invalid }

    /// A column's verdict after one more cell past the dummy scans, as `ConfoundsTable.selecting`
    /// fills it: 0 only n/a so far (filled from the first number), 1 a number seen, 2 unusable
    /// (n/a after a number, or an infinite value). A column that ends at 0 has no number.
    @inline(__always)
    static func usability(after state: UInt8, _ value: CellValue) -> UInt8 {
        if state == 2 || value == .infinite || (value == .missing && state == 1) { return 2 }
        return value == .finite ? 1 : state
    }

    /// Classifies the cell that starts at `lo` and ends at the next tab, line break or `end`;
    /// returns it with that end. A plain decimal number (optional sign, at most 30 digits with an
    /// optional point, an exponent of at most two digits) is finite without being converted;
    /// anything else by the reader's own rule (`ConfoundsTable.value(ofCell:)`).
    @inline(__always)
    static func classify(_ b: UnsafePointer<UInt8>, from lo: Int, end: Int) -> (CellValue, Int) {
        @inline(__always) func isDigit(_ i: Int) -> Bool { i < end && b[i] &- 0x30 < 10 }
        @inline(__always) func isSeparator(_ i: Int) -> Bool { i == end || b[i] == 0x09 || b[i] == 0x0A || b[i] == 0x0D }
        var i = lo, digits = 0
        if i < end && (b[i] == 0x2B || b[i] == 0x2D) { i += 1 }
        while isDigit(i) { i += 1; digits += 1 }
        if i < end && b[i] == 0x2E {
            i += 1
            while isDigit(i) { i += 1; digits += 1 }
        }
        if digits > 0 && digits <= 30 {
            if isSeparator(i) { return (.finite, i) }
            if b[i] == 0x65 || b[i] == 0x45 {
                i += 1
                if i < end && (b[i] == 0x2B || b[i] == 0x2D) { i += 1 }
                let first = i
                while isDigit(i) { i += 1 }
                if i > first && i - first <= 2 && isSeparator(i) { return (.finite, i) }
            }
        }
        while !isSeparator(i) { i += 1 }
        guard let v = ConfoundsTable.value(ofCell: String(decoding: UnsafeBufferPointer(start: b + lo, count: i - lo), as: UTF8.self)) else {
            return (.invalid, i)
        }
        return (v.isNaN ? .missing : v.isFinite ? .finite : .infinite, i)
    }

    /// Reports what differs between runs, each problem once with the runs it concerns, then runs
    /// the full check of one run (``checkRun``) for each length and repetition time among them.
    func checkEveryRun(_ p: Parameters, stage: StageSpec, study: StudyCheck) {
        let survey = survey(p, stage: stage, study: study)
        var problems = RunProblems()
        for (label, message) in survey.unreadable {
            problems.add(key: "bold", "cannot read the BOLD header", run: label, detail: message)
        }
        for mask in survey.unreadableMasks {
            for run in mask.runs {
                problems.add(key: "mask", "the \(p.maskNoun) cannot be read, so cleaning would stop", run: run,
                             detail: "\(mask.path): \(mask.problem)")
            }
        }
        for (label, message) in survey.cutShort {
            problems.add(key: "bold", "the BOLD file holds less than its header declares, or is corrupt, so its clean task would stop", run: label, detail: message)
        }
        if !survey.unverified.isEmpty {
            study.checkLater(stage, "whether the \(survey.unverified.count) BOLD files whose gzip trailer does not give their length (several gzip members?) "
                             + "hold all their volumes (\(survey.unverified.listed()))")
        }
        let needsConfounds = !p.confounds.isEmpty || p.scrubFD > 0 || p.scrubStdDVARS > 0
        var representatives: [String: (run: RunSurvey.Run, tr: Double, usable: Bool)] = [:]
        var order: [String] = []
        for run in survey.runs {
            let total = run.header.shape.count > 3 ? run.header.shape[3] : 1
            let before = problems.count
            var matched = 0  // the confound columns the strategy takes in this run
            defer {
                // One run per length, TR and number of confound columns (aCompCor's vary from
                // run to run) gets the full check, degrees of freedom included: the first whose
                // confounds are usable, else the first.
                if case .success(let tr) = run.repetitionTime {
                    let signature = "\(total) \(tr) \(matched)", usable = problems.count == before
                    if representatives[signature] == nil { order.append(signature) }
                    if !(representatives[signature]?.usable ?? false) && (usable || representatives[signature] == nil) {
                        representatives[signature] = (run, tr, usable)
                    }
                }
            }
            // Cleaning needs a 4-D series of more than one volume (`ScanLoader.checkShape`; a
            // run too short for dummy_scans is reported by the full check of its length).
            do { _ = try ScanLoader.checkShape(run.request, header: run.header) } catch let e as InputError where e.field == "dim" {
                problems.add(key: "bold", "the BOLD image is not a 4-D series of more than one volume", run: run.label,
                             detail: "\(run.files["bold"] ?? run.label): \(e.message)")
                continue  // its confounds cannot agree with it: that one problem, not a second
            } catch {}
            if case .failure(let e) = run.repetitionTime {
                let key = e.field == "RepetitionTime" ? "repetition_time" : "tr_source"
                // Runs share a line only when their TR fails the same way: the message without
                // its numbers, quoted values and the run's own path (a sidecar in milliseconds and
                // one that disagrees with its header are two lines, each with its first run).
                let how = e.message.replacingOccurrences(of: run.request.bold, with: "").replacing(/"[^"]*"|[0-9][0-9.eE+-]*/, with: "#")
                problems.add(key: key, "cannot take the repetition time (\(e.field ?? "TR"))", run: run.label, detail: e.description, group: how)
            }
            // The confounds file is read with the run whenever it exists (for its motion too).
            guard let surveyed = run.confounds else { continue }
            let relative = run.files["confounds"] ?? ""
            let shape: RunSurvey.ConfoundsShape
            switch surveyed {
            case .failure(let e):
                problems.add(key: "confounds", "cannot read the confounds file", run: run.label, detail: e.description)
                continue
            case .success(let s): shape = s
            }
            // A line split in two also adds a row: the uneven line is the one problem named.
            if let uneven = shape.uneven {
                problems.add(key: "confounds", "the confounds file has a line whose cells are not one per column, so cleaning cannot read it", run: run.label,
                             detail: "\(relative): line \(uneven.line) has \(uneven.cells) cell\(uneven.cells == 1 ? "" : "s"); the header has \(shape.names.count) columns")
                continue
            }
            if let bad = shape.invalidCell {
                problems.add(key: "confounds", "the confounds file holds a cell that is neither a number nor n/a, so cleaning cannot read it", run: run.label,
                             detail: "\(relative): line \(bad.line), column \(bad.column): '\(bad.text)'")
                continue
            }
            if shape.rows != total {
                problems.add(key: "confounds", "the confounds file's rows differ from the BOLD series' volumes (they must be one per volume)",
                             run: run.label, detail: "\(relative): \(shape.rows) rows, \(total) volumes")
            }
            if let twice = shape.duplicate {
                problems.add(key: "confounds", "the confounds file names column '\(twice)' twice", run: run.label, detail: relative)
                continue
            }
            guard needsConfounds else { continue }
            let table = ConfoundsTable(path: shape.path, names: shape.names,
                                       columns: Dictionary(shape.names.map { ($0, [Double]()) }, uniquingKeysWith: { a, _ in a }))
            // A column used that cleaning cannot fill: the first named, with how many more.
            func unusable(_ columns: [String], key: String) {
                let bad = columns.filter { shape.unusable[$0] != nil }
                guard let first = bad.first, let why = shape.unusable[first] else { return }
                problems.add(key: key, "a confounds column cleaning uses has \(why.words)",
                             run: run.label, detail: "\(relative): column \(first), line \(why.line)"
                                 + (bad.count > 1 ? " (and \(bad.count - 1) more column\(bad.count == 2 ? "" : "s"))" : ""))
            }
            if !p.confounds.isEmpty {
                do {
                    let columns = try ConfoundStrategy(p.confounds).columns(in: table)
                    matched = columns.count
                    unusable(columns, key: "confounds")
                } catch let e as InputError {
                    let term = e.field ?? ""
                    // Where columns start alike (listed), a close column name only, not a strategy's.
                    let candidates = (e.message.contains("start alike") ? [] : ConfoundStrategy.strategyNames) + shape.names
                    let hint = term.isEmpty ? "" : EditDistance.didYouMean(term, among: candidates)
                    problems.add(key: "confounds", (term.isEmpty ? "" : "'\(term)': ") + e.message, run: run.label, detail: relative, hint: hint)
                } catch {}
            }
            for (column, key, on) in [("framewise_displacement", "scrub_fd", p.scrubFD > 0), ("std_dvars", "scrub_std_dvars", p.scrubStdDVARS > 0)]
            where on {
                if shape.names.contains(column) {
                    unusable([column], key: key)
                } else {
                    problems.add(key: key, "scrubbing needs the column \(column), which the confounds file does not have", run: run.label, detail: relative)
                }
            }
        }
        problems.report(stage, study, of: survey.runs.count + survey.unreadable.count)
        for signature in order {
            let chosen = representatives[signature]!
            checkRun(p, stage: stage, study: study, run: chosen.run, repetitionTime: chosen.tr)
        }
    }
}

/// Problems found in several runs, each reported once: the message, then the runs (a few named,
/// with the first's file), in the order first seen.
struct RunProblems {
    private var order: [String] = []
    /// How many runs' problems were added.
    private(set) var count = 0
    private var entries: [String: (key: String, message: String, hint: String, runs: [(label: String, detail: String)])] = [:]

    /// Runs with the same key and message share an entry, unless `group` tells them apart.
    mutating func add(key: String, _ message: String, run: String, detail: String, hint: String = "", group: String = "") {
        let id = key + "\u{0}" + message + "\u{0}" + group
        if entries[id] == nil { order.append(id); entries[id] = (key, message, hint, []) }
        entries[id]!.runs.append((run, detail))
        count += 1
    }

    /// Reports each problem once; with `of` (the runs there are), a problem of only some of
    /// them says how to leave those out.
    func report(_ stage: StageSpec, _ study: StudyCheck, of total: Int? = nil) {
        for id in order {
            let e = entries[id]!
            let first = e.runs[0]
            let runs = e.runs.count == 1 ? "in \(first.label) (\(first.detail))"
                : "in \(e.runs.count) runs: \(e.runs.map(\.label).listed()) (the first: \(first.detail))"
            let some = total.map { e.runs.count < $0 } ?? false
            study.report(stage, e.key, "\(e.message) \(runs)\(e.hint)" + (some ? MissingScans.hint(e.runs.count) : ""))
        }
    }
}
