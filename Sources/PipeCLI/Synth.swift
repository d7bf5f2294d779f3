import ArgumentParser
import Connectivity
import Foundation

extension PipeCommand {
    /// `pipe synth`: writes the synthetic ketamine-study cohort as fMRIPrep derivatives.
    struct Synth: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate the synthetic cohort (49 patients x 2 sessions) as fMRIPrep derivatives in BIDS layout.",
            discussion: """
                31 anxious (20 responders, 11 non-responders) and 18 non-anxious patients, resting-state \
                fMRI at baseline and day 13, with effects planted where the ketamine study found them \
                (see participants.json and synth_truth.tsv). --null writes the same cohort without them.
                """
        )

        @Option(help: "Output folder.")
        var out: String

        @Option(help: "demo (4 mm, 120 volumes) or full (2 mm 91x109x91, 240 volumes).")
        var scale: String = "demo"

        @Option(help: "Random seed; the same seed gives byte-identical files.")
        var seed: UInt64 = 1

        @Flag(help: "No planted effects (for calibration).")
        var null = false

        @Option(parsing: .upToNextOption, help: "Only these subjects (e.g. sub-01 sub-07).")
        var subjects: [String] = []

        @Option(help: "Scans generated at once (default: cores).")
        var jobs: Int?

        func validate() throws {
            guard SynthGrid.Scale(rawValue: scale) != nil else {
                throw ValidationError("--scale must be demo or full, not '\(scale)'")
            }
        }

        func run() throws {
            var options = SynthDataset.Options(scale: SynthGrid.Scale(rawValue: scale)!, seed: seed, null: null,
                                               subjects: subjects.isEmpty ? nil : subjects)
            if let jobs { options.jobs = jobs }
            let start = Date()
            do {
                let summary = try SynthDataset.generate(to: out, options: options)
                let seconds = Date().timeIntervalSince(start)
                print(String(format: "wrote %d subjects, %d scans, %.1f MiB to %@ in %.1f s", summary.subjects, summary.scans,
                             Double(summary.bytes) / 1_048_576, out, seconds))
            } catch {
                FileHandle.standardError.write(Data("pipe synth: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}
