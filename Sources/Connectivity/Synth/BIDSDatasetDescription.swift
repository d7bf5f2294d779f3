/// A BIDS `dataset_description.json`: the fields the synthetic dataset writes.
struct BIDSDatasetDescription: Codable, Sendable, Equatable {
    var name: String
    var bidsVersion = "1.8.0"
    /// "raw" or "derivative".
    var datasetType: String
    var generatedBy: [Generator]

    /// A program that made the dataset.
    struct Generator: Codable, Sendable, Equatable {
        var name: String
        var description: String? = nil

        enum CodingKeys: String, CodingKey { case name = "Name", description = "Description" }
    }

    enum CodingKeys: String, CodingKey {
        case name = "Name", bidsVersion = "BIDSVersion", datasetType = "DatasetType", generatedBy = "GeneratedBy"
    }
}
