/// The engine's version, recorded in manifests and journals.
public enum EngineVersion {
    public static let string = "pipe 0.2.0"
}
