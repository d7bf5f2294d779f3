/// The engine's version, recorded in manifests and journals.
public enum EngineVersion {
    public static let string = "pipe-engine 0.1.0"
}
