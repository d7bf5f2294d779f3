import ArgumentParser
import Foundation
import PipelineEngine

extension PipeCommand {
    /// `pipe graph`: the stage graph (or task graph) as Graphviz dot or Mermaid.
    struct Graph: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the stage graph as dot or mermaid.")

        enum Format: String, ExpressibleByArgument, CaseIterable { case dot, mermaid }

        @OptionGroup var study: StudyOptions

        @Option(help: "Output format: dot or mermaid.")
        var format: Format = .dot

        @Flag(help: "Draw every task instead of every stage.")
        var tasks = false

        func run() async throws {
            var nodes: [(id: String, label: String)] = []
            var edges: [(String, String)] = []
            if tasks {
                let (_, graph, _) = try study.loadGraph()
                for t in graph.tasks {
                    nodes.append(("t\(t.id)", "\(t.stage)\\n\(t.scope.label)"))
                    for d in t.dependencies { edges.append(("t\(d.task)", "t\(t.id)")) }
                }
            } else {
                let spec = try study.load()
                let counts = Dictionary(uniqueKeysWithValues: spec.stages.map { s -> (String, Int) in
                    switch s.kind.fanOut {
                    case .perScan: return (s.name, spec.cohort.scans.count)
                    case .perSubject: return (s.name, spec.cohort.subjects.count)
                    case .group: return (s.name, 1)
                    }
                })
                for s in spec.stages {
                    nodes.append((s.name, "\(s.name)\\n\(s.kind.name) (\(s.kind.fanOut.words), \(Plural.count(counts[s.name]!, "task")))"))
                    for f in s.from { edges.append((f, s.name)) }
                }
            }
            var out = ""
            switch format {
            case .dot:
                out += "digraph pipe {\n  rankdir=LR;\n  node [shape=box];\n"
                for n in nodes { out += "  \"\(n.id)\" [label=\"\(n.label)\"];\n" }
                for e in edges { out += "  \"\(e.0)\" -> \"\(e.1)\";\n" }
                out += "}\n"
            case .mermaid:
                out += "flowchart LR\n"
                for n in nodes { out += "  \(n.id)[\"\(n.label.replacingOccurrences(of: "\\n", with: "<br/>"))\"]\n" }
                for e in edges { out += "  \(e.0) --> \(e.1)\n" }
            }
            FileHandle.standardOutput.write(Data(out.utf8))
        }
    }
}
