/// The byte order of a file's header and voxel data.
public enum ByteOrder: String, Sendable, Equatable {
    case little
    case big

    /// The byte order of the machine running pipe.
    public static var host: ByteOrder { 1.littleEndian == 1 ? .little : .big }

    /// The opposite byte order.
    var swapped: ByteOrder { self == .little ? .big : .little }
}
