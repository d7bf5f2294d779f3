import ArgumentParser
import Foundation
import NIfTI

extension PipeCommand {
    /// `pipe inspect FILE...`: a readable summary of NIfTI files, like nib-ls or fslinfo.
    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Summarise NIfTI files: shape, voxel size, TR, datatype, scaling, orientation, affine, values.",
            discussion: """
                Reads NIfTI-1 and NIfTI-2 (.nii, .nii.gz, .hdr/.img). The value range and NaN count \
                need a pass over the data; --header-only skips it. Exit status 1 if any file fails.
                """
        )

        @Argument(help: "NIfTI files to inspect.")
        var files: [String]

        @Flag(help: "Print one JSON object per file, for machines.")
        var json = false

        @Flag(help: "Read the header only (no value range or NaN count).")
        var headerOnly = false

        func run() throws {
            var failed = 0
            var reports: [InspectReport] = []
            for file in files {
                do {
                    let info = try NIfTIFile.readHeader(file)
                    let stats = headerOnly ? nil : try NIfTIFile.statistics(file)
                    let report = InspectReport(info: info, statistics: stats)
                    if json { reports.append(report) } else { print(report.text) }
                } catch {
                    failed += 1
                    FileHandle.standardError.write(Data("pipe inspect: \(error)\n".utf8))
                }
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                let value: any Encodable = files.count == 1 && reports.count == 1 ? reports[0] : reports
                print(String(decoding: try encoder.encode(value), as: UTF8.self))
            }
            if failed > 0 { throw ExitCode(1) }
        }
    }
}
