import PipelineEngine

/// The references the neuroimaging kinds cite in the generated `methods.md`.
enum MethodsReferences {
    typealias R = MethodsText.Reference
    static let nilearn = R(key: "Abraham2014", citation: "Abraham A, et al. Machine learning for neuroimaging with scikit-learn. Front Neuroinform 2014;8:14",
                           bibtex: "@article{Abraham2014,\n  author = {Abraham, Alexandre and others},\n  title = {Machine learning for neuroimaging with scikit-learn},\n  journal = {Frontiers in Neuroinformatics},\n  volume = {8},\n  pages = {14},\n  year = {2014}\n}")
    static let power = R(key: "Power2012", citation: "Power JD, et al. Spurious but systematic correlations in functional connectivity MRI networks arise from subject motion. NeuroImage 2012;59:2142-2154",
                         bibtex: "@article{Power2012,\n  author = {Power, Jonathan D. and others},\n  title = {Spurious but systematic correlations in functional connectivity {MRI} networks arise from subject motion},\n  journal = {NeuroImage},\n  volume = {59},\n  pages = {2142--2154},\n  year = {2012}\n}")
    static let friston = R(key: "Friston1996", citation: "Friston KJ, et al. Movement-related effects in fMRI time-series. Magn Reson Med 1996;35:346-355",
                           bibtex: "@article{Friston1996,\n  author = {Friston, Karl J. and others},\n  title = {Movement-related effects in {fMRI} time-series},\n  journal = {Magnetic Resonance in Medicine},\n  volume = {35},\n  pages = {346--355},\n  year = {1996}\n}")
    static let freedmanLane = R(key: "Freedman1983", citation: "Freedman D, Lane D. A nonstochastic interpretation of reported significance levels. J Bus Econ Stat 1983;1:292-298",
                                bibtex: "@article{Freedman1983,\n  author = {Freedman, David and Lane, David},\n  title = {A nonstochastic interpretation of reported significance levels},\n  journal = {Journal of Business \\& Economic Statistics},\n  volume = {1},\n  pages = {292--298},\n  year = {1983}\n}")
    static let winkler = R(key: "Winkler2014", citation: "Winkler AM, et al. Permutation inference for the general linear model. NeuroImage 2014;92:381-397",
                           bibtex: "@article{Winkler2014,\n  author = {Winkler, Anderson M. and others},\n  title = {Permutation inference for the general linear model},\n  journal = {NeuroImage},\n  volume = {92},\n  pages = {381--397},\n  year = {2014}\n}")
    static let tfce = R(key: "Smith2009", citation: "Smith SM, Nichols TE. Threshold-free cluster enhancement. NeuroImage 2009;44:83-98",
                        bibtex: "@article{Smith2009,\n  author = {Smith, Stephen M. and Nichols, Thomas E.},\n  title = {Threshold-free cluster enhancement: addressing problems of smoothing, threshold dependence and localisation in cluster inference},\n  journal = {NeuroImage},\n  volume = {44},\n  pages = {83--98},\n  year = {2009}\n}")
    static let fdr = R(key: "Benjamini1995", citation: "Benjamini Y, Hochberg Y. Controlling the false discovery rate. J R Stat Soc B 1995;57:289-300",
                       bibtex: "@article{Benjamini1995,\n  author = {Benjamini, Yoav and Hochberg, Yosef},\n  title = {Controlling the false discovery rate: a practical and powerful approach to multiple testing},\n  journal = {Journal of the Royal Statistical Society B},\n  volume = {57},\n  pages = {289--300},\n  year = {1995}\n}")
    static let ciric = R(key: "Ciric2017", citation: "Ciric R, et al. Benchmarking of participant-level confound regression strategies. NeuroImage 2017;154:174-187",
                         bibtex: "@article{Ciric2017,\n  author = {Ciric, Rastko and others},\n  title = {Benchmarking of participant-level confound regression strategies for the control of motion artifact in studies of functional connectivity},\n  journal = {NeuroImage},\n  volume = {154},\n  pages = {174--187},\n  year = {2017}\n}")
    static let parkes = R(key: "Parkes2018", citation: "Parkes L, et al. An evaluation of the efficacy, reliability, and sensitivity of motion correction strategies. NeuroImage 2018;171:415-436",
                          bibtex: "@article{Parkes2018,\n  author = {Parkes, Linden and others},\n  title = {An evaluation of the efficacy, reliability, and sensitivity of motion correction strategies for resting-state functional {MRI}},\n  journal = {NeuroImage},\n  volume = {171},\n  pages = {415--436},\n  year = {2018}\n}")

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
