import PipelineEngine

/// The references the neuroimaging kinds cite in the generated `methods.md`.
enum MethodsReferences {
    /// A journal article, cited in the text as "Authors. Short title. Abbrev Year;Volume:Pages" and
    /// listed in BibTeX with its full title and journal (page ranges written `a--b` there).
    static func article(_ key: String, cite authors: String, _ short: String, _ abbreviation: String, bibAuthors: String, title: String,
                        journal: String, volume: Int, pages: String, year: Int) -> MethodsText.Reference {
        MethodsText.Reference(
            key: key, citation: "\(authors). \(short). \(abbreviation) \(year);\(volume):\(pages)",
            bibtex: "@article{\(key),\n  author = {\(bibAuthors)},\n  title = {\(title)},\n  journal = {\(journal)},\n  volume = {\(volume)},\n"
                + "  pages = {\(pages.replacingOccurrences(of: "-", with: "--"))},\n  year = {\(year)}\n}")
    }

    static let nilearn = article("Abraham2014", cite: "Abraham A, et al", "Machine learning for neuroimaging with scikit-learn", "Front Neuroinform",
                                 bibAuthors: "Abraham, Alexandre and others", title: "Machine learning for neuroimaging with scikit-learn",
                                 journal: "Frontiers in Neuroinformatics", volume: 8, pages: "14", year: 2014)
    static let power = article("Power2012", cite: "Power JD, et al",
                               "Spurious but systematic correlations in functional connectivity MRI networks arise from subject motion", "NeuroImage",
                               bibAuthors: "Power, Jonathan D. and others",
                               title: "Spurious but systematic correlations in functional connectivity {MRI} networks arise from subject motion",
                               journal: "NeuroImage", volume: 59, pages: "2142-2154", year: 2012)
    static let friston = article("Friston1996", cite: "Friston KJ, et al", "Movement-related effects in fMRI time-series", "Magn Reson Med",
                                 bibAuthors: "Friston, Karl J. and others", title: "Movement-related effects in {fMRI} time-series",
                                 journal: "Magnetic Resonance in Medicine", volume: 35, pages: "346-355", year: 1996)
    static let freedmanLane = article("Freedman1983", cite: "Freedman D, Lane D", "A nonstochastic interpretation of reported significance levels",
                                      "J Bus Econ Stat", bibAuthors: "Freedman, David and Lane, David",
                                      title: "A nonstochastic interpretation of reported significance levels",
                                      journal: "Journal of Business \\& Economic Statistics", volume: 1, pages: "292-298", year: 1983)
    static let winkler = article("Winkler2014", cite: "Winkler AM, et al", "Permutation inference for the general linear model", "NeuroImage",
                                 bibAuthors: "Winkler, Anderson M. and others", title: "Permutation inference for the general linear model",
                                 journal: "NeuroImage", volume: 92, pages: "381-397", year: 2014)
    static let tfce = article("Smith2009", cite: "Smith SM, Nichols TE", "Threshold-free cluster enhancement", "NeuroImage",
                              bibAuthors: "Smith, Stephen M. and Nichols, Thomas E.",
                              title: "Threshold-free cluster enhancement: addressing problems of smoothing, threshold dependence and localisation in cluster inference",
                              journal: "NeuroImage", volume: 44, pages: "83-98", year: 2009)
    static let fdr = article("Benjamini1995", cite: "Benjamini Y, Hochberg Y", "Controlling the false discovery rate", "J R Stat Soc B",
                             bibAuthors: "Benjamini, Yoav and Hochberg, Yosef",
                             title: "Controlling the false discovery rate: a practical and powerful approach to multiple testing",
                             journal: "Journal of the Royal Statistical Society B", volume: 57, pages: "289-300", year: 1995)
    static let ciric = article("Ciric2017", cite: "Ciric R, et al", "Benchmarking of participant-level confound regression strategies", "NeuroImage",
                               bibAuthors: "Ciric, Rastko and others",
                               title: "Benchmarking of participant-level confound regression strategies for the control of motion artifact in studies of functional connectivity",
                               journal: "NeuroImage", volume: 154, pages: "174-187", year: 2017)
    static let parkes = article("Parkes2018", cite: "Parkes L, et al",
                                "An evaluation of the efficacy, reliability, and sensitivity of motion correction strategies", "NeuroImage",
                                bibAuthors: "Parkes, Linden and others",
                                title: "An evaluation of the efficacy, reliability, and sensitivity of motion correction strategies for resting-state functional {MRI}",
                                journal: "NeuroImage", volume: 171, pages: "415-436", year: 2018)

    /// The permutation inference of `group` and `longitudinal`, as a sentence.
    static func inference(_ s: InferenceSettings, signFlipping: Bool) -> String {
        var text = "Inference used \(s.permutations) permutations (random seed \(s.randomSeed); " + (signFlipping ? "sign flipping" : "Freedman–Lane")
            + ", \(s.twoSided ? "two" : "one")-sided), with family-wise error control by max-T"
        text += ", cluster mass (cluster-forming p < \(s.clusterP), \(s.connectivity.rawValue)-connectivity)"
        if s.tfce { text += " and TFCE (E = 0.5, H = 2)" }
        text += ", and voxelwise FDR; maps are thresholded at FWE p < \(s.alpha)."
        if s.grfZ > 0 { text += " Parametric GRF cluster inference (z > \(s.grfZ), cluster p < \(s.grfAlpha)) is reported alongside, as published tools compute it." }
        return text
    }
}
