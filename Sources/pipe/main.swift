import Connectivity
import PipeCLI
import PipelineEngine

PipeCommand.registry = StageRegistry(ConnectivityKinds.all)
await PipeCommand.runMain()
