/// An optional written as `null` when absent, where a synthesized `Encodable` would leave the key
/// out: for fields a JSON output always has (`"min_p_fwe_tfce": null` without TFCE).
///
/// Decoding accepts `null`; a missing key is an error like any other required field.
@propertyWrapper
struct NullWhenAbsent<Value: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    var wrappedValue: Value?

    init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        wrappedValue = container.decodeNil() ? nil : try container.decode(Value.self)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}
