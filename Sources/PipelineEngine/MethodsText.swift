/// A stage's part of the generated methods: prose, and the references it cites.
public struct MethodsText: Sendable, Equatable {
    /// A reference: its citation key (`Power2012`), how it reads in the text, and its BibTeX entry.
    public struct Reference: Sendable, Equatable {
        public var key: String
        public var citation: String
        public var bibtex: String
        public init(key: String, citation: String, bibtex: String) {
            self.key = key; self.citation = citation; self.bibtex = bibtex
        }
    }

    public var text: String
    public var references: [Reference]

    public init(_ text: String, references: [Reference] = []) {
        self.text = text
        self.references = references
    }
}
