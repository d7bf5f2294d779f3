import Foundation
import XCTest
@testable import Connectivity

/// Foundation errors that reach people are plain words naming the file and the cause, never
/// `Error Domain=NSCocoaErrorDomain Code=260 ... UserInfo={...}`.
final class ErrorReasonTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-reasons-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { [folder] in try? FileManager.default.removeItem(at: folder!) }
    }

    private func message(_ body: () throws -> Void) -> String {
        do { try body(); return "no error" } catch { return "\(error)" }
    }

    func testFoundationErrorsBecomeStrerrorWords() throws {
        let missing = folder.appendingPathComponent("absent.json")
        do { _ = try Data(contentsOf: missing) } catch { XCTAssertEqual(ErrorReason.of(error), "No such file or directory") }
        do { _ = try FileManager.default.contentsOfDirectory(atPath: missing.path) } catch {
            XCTAssertEqual(ErrorReason.of(error), "No such file or directory")
        }
        do { _ = try JSONSerialization.jsonObject(with: Data("{x".utf8)) } catch {
            XCTAssertTrue(ErrorReason.of(error).hasPrefix("invalid JSON ("), ErrorReason.of(error))
        }
        do { _ = try JSONSerialization.data(withJSONObject: ["p": Double.nan]) } catch {
            XCTAssertTrue(ErrorReason.of(error).hasPrefix("invalid JSON (") && ErrorReason.of(error).lowercased().contains("nan"), ErrorReason.of(error))
        }
    }

    func testSidecarSynthFolderAndSummaryErrorsNameTheFileAndTheCause() throws {
        let sidecar = folder.appendingPathComponent("sub-01_bold.json").path
        XCTAssertEqual(message { _ = try FMRIPrepLayout.repetitionTime(sidecar: sidecar) },
                       "\(sidecar): cannot read the sidecar: No such file or directory")
        // A regular file where the synthetic study's folder should go.
        let file = folder.appendingPathComponent("file")
        try Data("x".utf8).write(to: file)
        let synth = message { _ = try SynthDataset.generate(to: file.appendingPathComponent("study").path, options: .init(subjects: ["sub-01"])) }
        XCTAssertEqual(synth, "cannot create the folder \(file.path)/study/atlas: Not a directory")
        // NaN is not JSON: a summary holding one is an error naming the file and the field.
        let summary = message { _ = try OutputJSON.encode(["p": Double.nan], name: "summary.json") }
        XCTAssertEqual(summary, "summary.json: cannot be written: cannot encode nan at 'p' in JSON")
        for m in [synth, summary] { XCTAssertFalse(m.contains("Domain="), m) }
    }
}
