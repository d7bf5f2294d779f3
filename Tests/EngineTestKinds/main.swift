import PipeCLI
import PipelineEngine

// The test tool: the real `pipe` command with test-only stage kinds registered.
PipeCommand.registry = StageRegistry([
    ReadKind(), DigestKind(), ScaleKind(), ClampKind(), SubjectSumKind(), GroupSumKind(), SlowKind(), AllocKind(),
    AnnotateKind(), NotesKind(),
])
await PipeCommand.runMain()
