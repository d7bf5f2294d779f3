import PipeCLI

await PipeCommand.runMain()
