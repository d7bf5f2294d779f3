/// A header extension: a code (`ecode`) and its payload, stored between the header and
/// `vox_offset` in blocks of `esize` bytes (8 bytes of size and code, then the payload).
public struct NIfTIExtension: Sendable, Equatable {
    /// The extension code, e.g. 4 (AFNI), 6 (comment), 32 (CIFTI).
    public var code: Int32
    /// The payload, without the 8-byte size/code prefix (and with any zero padding it had).
    public var content: [UInt8]

    public init(code: Int32, content: [UInt8]) {
        self.code = code
        self.content = content
    }

    /// The on-disk size (`esize`): 8 + the payload, padded to a multiple of 16.
    public var encodedSize: Int { (8 + content.count + 15) / 16 * 16 }

    /// A short name for well-known codes.
    public var codeName: String {
        switch code {
        case 2: "dicom"
        case 4: "afni"
        case 6: "comment"
        case 8: "xcede"
        case 10: "jimdiminfo"
        case 12: "workflow_fwds"
        case 14: "freesurfer"
        case 16: "pypickle"
        case 18: "mind_ident"
        case 32: "cifti"
        case 40: "quantiphyse"
        default: "unknown"
        }
    }
}
