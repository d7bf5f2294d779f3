import Foundation

/// One synthetic resting-state run: BOLD data in percent-signal units around a tissue baseline, and
/// the confounds fMRIPrep would report for it.
///
/// The model, per in-mask voxel v and volume t (amplitudes in % of the baseline B(v) ≈ 1000):
///   y = B(v) · (1 + 0.01 · [ 2.0 s_r(t)                        in atlas region r
///                            + 0.6 g(t)                           global signal, AR(1) φ 0.8
///                            + Σ_k 0.4 m_k(v) a_k(t)              12 smooth fields, AR(1) φ 0.4
///                            + 0.5 e(v, t)                        voxel noise, AR(1) φ 0.3
///                            + Σ_j w_j(v) μ_j(t)                  motion: position-dependent gain
///                            + Σ_j h_j(v) (Δμ_j(t) / σ_j)²        spin history, 6 smooth fields
///                            + d(v) (t/T − ½) + 0.4 (2t/T − 1)²   drifts
///                            + physiological CSF/WM signals ])
///   minus 3% at the jerks (spin-history drop). μ is a random walk with step σ_j × the scan's
///   motion level (`SynthCohort.Motion`), plus 3 jerks and the planted bursts.
/// Region signals s_r are band-limited Gaussian noise in 0.016–0.092 Hz (resting-state BOLD
/// fluctuations; a 0.01–0.1 Hz band-pass keeps them whole); the planted pairs couple the target to the seed as
/// s_target = c s_seed + √(1 − c²) s_own, with c from `SynthCohort`.
struct SynthScan {
    /// Data volume-major: `data[t * voxelCount + v]`, zero outside the mask.
    var data: [Float]
    /// fMRIPrep-named confound columns in order, NaN for "n/a".
    var confounds: [(name: String, values: [Double])]

    static let noiseFields = 12
    static let spikes = 3

    /// - Parameter run: the run label (nil: a scan without one). Runs of a session share the
    ///   subject's coupling and motion profile; their noise, motion and bursts are drawn apart.
    init(grid: SynthGrid, atlas: SynthAtlas, participant: SynthCohort.Participant, session: String, run: String? = nil, seed: UInt64) {
        let T = grid.volumes, V = grid.voxelCount
        // A scan without a run keeps the draws it had before runs were drawn apart.
        let draw = run.map { "\(session) run-\($0)" } ?? session
        var rng = SynthRandom(seed: SynthRandom.derive(seed, participant.id, draw, "scan"))
        let inMask = (0..<V).filter { grid.mask[$0] }
        let world = inMask.map { grid.world($0) }

        // Latent signals.
        var region: [Int: [Double]] = [:]
        for r in SynthAtlas.regions { region[r.index] = rng.bandLimited(T, tr: grid.repetitionTime, low: 0.016, high: 0.092) }
        for pair in SynthCohort.SynthPair.allCases {
            let c = participant.coupling[session]![pair]!
            let (seedName, targetName) = pair.regions
            let s = region[SynthAtlas.index(of: seedName)!]!
            let own = region[SynthAtlas.index(of: targetName)!]!
            region[SynthAtlas.index(of: targetName)!] = (0..<T).map { c * s[$0] + (1 - c * c).squareRoot() * own[$0] }
        }
        let global = rng.ar1(T, phi: 0.8)
        let csfSignal = rng.ar1(T, phi: 0.6), wmSignal = rng.ar1(T, phi: 0.9)
        let fieldSeries = (0..<Self.noiseFields).map { _ in rng.ar1(T, phi: 0.4) }
        var fieldMaps = [[Float]](repeating: [Float](repeating: 0, count: inMask.count), count: Self.noiseFields)
        for k in 0..<Self.noiseFields {
            let blobs = (0..<5).map { _ in (world[Int(rng.next() % UInt64(world.count))], rng.normal()) }
            for (n, p) in world.enumerated() {
                var value = 0.0
                for (centre, amplitude) in blobs {
                    let d2 = (0..<3).map { (p[$0] - centre[$0]) * (p[$0] - centre[$0]) }.reduce(0, +)
                    value += amplitude * exp(-d2 / (2 * 20 * 20))
                }
                fieldMaps[k][n] = Float(value)
            }
        }

        // Motion: slow random walks plus a few jerks, scaled by the scan's motion level, and the
        // planted bursts; FD after Power et al. (50 mm head radius).
        let profile = participant.motion[session]!
        var motion = [[Double]](repeating: [Double](repeating: 0, count: T), count: 6)
        // The walk's steps in units of a level-1 walk's step, for the spin-history term below.
        var steps = [[Double]](repeating: [Double](repeating: 0, count: T), count: 6)
        var spikeVolumes = Set<Int>()
        while spikeVolumes.count < Self.spikes { spikeVolumes.insert(10 + Int(rng.next() % UInt64(T - 20))) }
        for j in 0..<6 {
            let step = j < 3 ? 0.015 : 0.0003
            var x = 0.0
            for t in 0..<T {
                steps[j][t] = profile.level * rng.normal()
                x += step * steps[j][t]
                motion[j][t] = x
            }
        }
        for t in spikeVolumes.sorted() {
            for j in 0..<6 { motion[j][t] += profile.level * (j < 3 ? 0.8 : 0.012) * (rng.uniform() < 0.5 ? -1 : 1) }
        }
        var burstRNG = SynthRandom(seed: SynthRandom.derive(seed, participant.id, draw, "bursts"))
        var burstVolumes = Set<Int>()
        while burstVolumes.count < profile.bursts {
            let t = 5 + Int(burstRNG.next() % UInt64(T - 10))
            if !spikeVolumes.contains(t) { burstVolumes.insert(t) }
        }
        for t in burstVolumes.sorted() {
            for j in 0..<6 { motion[j][t] += (j < 3 ? 0.1 : 0.002) * (burstRNG.uniform() < 0.5 ? -1 : 1) }
        }
        // Spin history: a signal change with the square of each step (the nonlinear part of
        // Friston et al. 1996's motion model), in six smooth fields peaking at the brain's faces.
        // 6P regression leaves it; the squared derivatives of 24P remove it. Its variance grows
        // with the fourth power of the motion level, and neighbouring regions share it: what
        // QC-FC measures. The jerks and bursts are left out of it (their volumes are censored).
        let anchors: [[Double]] = [[-62, -20, 0], [62, -20, 0], [0, 62, 5], [0, -100, 10], [0, -20, 72], [0, -20, -42]]
        let spinHistory: [[Float]] = anchors.map { anchor in
            world.map { p in
                let d2 = (0..<3).map { (p[$0] - anchor[$0]) * (p[$0] - anchor[$0]) }.reduce(0, +)
                return Float(1.0 * exp(-d2 / (2 * 35 * 35)))
            }
        }
        // Position-dependent sensitivity to each motion parameter (translations: the intensity
        // gradient along the axis; rotations: lever arms), in % per mm or per radian.
        let gains: [[Float]] = (0..<6).map { j in
            world.map { p -> Float in
                switch j {
                case 0: Float(1.5 * p[0] / 70)
                case 1: Float(1.5 * (p[1] + 18) / 90)
                case 2: Float(1.5 * (p[2] - 12) / 70)
                case 3: Float(60 * (p[1] + 18) / 90 * (p[2] - 12) / 70)
                case 4: Float(60 * p[0] / 70 * (p[2] - 12) / 70)
                default: Float(60 * p[0] / 70 * (p[1] + 18) / 90)
                }
            }
        }

        // Tissue compartments and baseline intensity.
        let csfMask = world.map { p in pow(p[0] / 10, 2) + pow((p[1] + 8) / 24, 2) + pow((p[2] - 14) / 10, 2) <= 1 }
        let wmMask = world.enumerated().map { n, p -> Bool in
            let r = (pow(p[0] / 68, 2) + pow((p[1] + 18) / 88, 2) + pow((p[2] - 12) / 68, 2)).squareRoot()
            return !csfMask[n] && r > 0.3 && r < 0.6 && abs(p[0]) > 14
        }
        let labels = inMask.map { atlas.labels[$0] }
        var data = [Float](repeating: 0, count: T * V)
        var baselineIntensity = [Double](repeating: 0, count: inMask.count)
        for (n, p) in world.enumerated() {
            baselineIntensity[n] = (csfMask[n] ? 1400 : (wmMask[n] ? 900 : 1000)) + 60 * sin(p[0] / 17) * cos(p[1] / 23)
        }
        let drift = (0..<inMask.count).map { _ in 0.8 * rng.normal() }
        let isSpike = (0..<T).map { spikeVolumes.contains($0) }
        for (n, v) in inMask.enumerated() {
            var noise = rng.ar1(T, phi: 0.3)
            let regionSeries = labels[n] != 0 ? region[labels[n]]! : nil
            let base = baselineIntensity[n]
            let physio = csfMask[n] ? (2.0, 0.0) : (wmMask[n] ? (0.2, 1.0) : (0.4, 0.3))
            for t in 0..<T {
                let tt = Double(t) / Double(T)
                var pct = 0.6 * global[t] + 0.5 * noise[t] + drift[n] * (tt - 0.5) + 0.4 * (2 * tt - 1) * (2 * tt - 1)
                pct += physio.0 * csfSignal[t] + physio.1 * wmSignal[t]
                if let regionSeries { pct += 2.0 * regionSeries[t] }
                for k in 0..<Self.noiseFields { pct += 0.4 * Double(fieldMaps[k][n]) * fieldSeries[k][t] }
                for j in 0..<6 { pct += Double(gains[j][n]) * motion[j][t] + Double(spinHistory[j][n]) * steps[j][t] * steps[j][t] }
                if isSpike[t] { pct -= 3 }
                data[t * V + v] = Float(base * (1 + 0.01 * pct))
            }
            noise.removeAll()
        }
        self.data = data

        // Confounds, computed from the data as fMRIPrep does.
        func mean(over selector: [Bool]) -> [Double] {
            let members = inMask.indices.filter { selector[$0] }
            return (0..<T).map { t in members.reduce(0.0) { $0 + Double(data[t * V + inMask[$1]]) } / Double(max(members.count, 1)) }
        }
        let everything = [Bool](repeating: true, count: inMask.count)
        let globalSignal = mean(over: everything), csf = mean(over: csfMask), wm = mean(over: wmMask)
        var dvars = [Double](repeating: .nan, count: T)
        for t in 1..<T {
            var sum = 0.0
            for v in inMask { let d = Double(data[t * V + v] - data[(t - 1) * V + v]); sum += d * d }
            dvars[t] = (sum / Double(inMask.count)).squareRoot()
        }
        let meanDVARS = dvars.dropFirst().reduce(0, +) / Double(T - 1)
        let stdDVARS = dvars.map { $0 / meanDVARS }
        var fd = [Double](repeating: .nan, count: T)
        for t in 1..<T {
            fd[t] = (0..<3).map { abs(motion[$0][t] - motion[$0][t - 1]) }.reduce(0, +)
                + 50 * (3..<6).map { abs(motion[$0][t] - motion[$0][t - 1]) }.reduce(0, +)
        }
        let cosines = Self.cosineBasis(T: T, tr: grid.repetitionTime)
        let compcor = Self.principalComponents(data: data, voxels: inMask.indices.filter { csfMask[$0] || wmMask[$0] }.map { inMask[$0] },
                                               T: T, V: V, remove: cosines, count: 5)

        var columns: [(String, [Double])] = []
        func withDerivatives(_ name: String, _ x: [Double]) {
            let d = [Double.nan] + (1..<T).map { x[$0] - x[$0 - 1] }
            columns.append((name, x))
            columns.append((name + "_derivative1", d))
            columns.append((name + "_power2", x.map { $0 * $0 }))
            columns.append((name + "_derivative1_power2", d.map { $0 * $0 }))
        }
        withDerivatives("global_signal", globalSignal)
        withDerivatives("csf", csf)
        withDerivatives("white_matter", wm)
        for (j, name) in ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"].enumerated() {
            withDerivatives(name, motion[j])
        }
        columns.append(("framewise_displacement", fd))
        columns.append(("dvars", dvars))
        columns.append(("std_dvars", stdDVARS))
        for (k, component) in compcor.enumerated() { columns.append((String(format: "a_comp_cor_%02d", k), component)) }
        for (k, cosine) in cosines.enumerated() { columns.append((String(format: "cosine%02d", k), cosine)) }
        confounds = columns
    }

    /// fMRIPrep's discrete cosine basis for a 128 s high-pass: DCT-II columns
    /// √(2/T) cos(π k (2t + 1) / (2T)) for k = 1 ... while k / (2 T TR) < 1/128.
    static func cosineBasis(T: Int, tr: Double) -> [[Double]] {
        let count = Int((2 * Double(T) * tr / 128).rounded(.down))
        return (1...max(count, 1)).map { k in
            (0..<T).map { t in (2 / Double(T)).squareRoot() * cos(Double.pi * Double(k) * Double(2 * t + 1) / Double(2 * T)) }
        }
    }

    /// aCompCor-style components: the top `count` left singular vectors of the selected voxels'
    /// time series after removing the mean and the cosine basis (power iteration on the T x T Gram
    /// matrix with deflation), each with unit norm and a positive first value.
    static func principalComponents(data: [Float], voxels: [Int], T: Int, V: Int, remove basis: [[Double]], count: Int) -> [[Double]] {
        var gram = [Double](repeating: 0, count: T * T)
        var series = [Double](repeating: 0, count: T)
        for v in voxels {
            for t in 0..<T { series[t] = Double(data[t * V + v]) }
            let m = series.reduce(0, +) / Double(T)
            for t in 0..<T { series[t] -= m }
            for b in basis {
                let dot = zip(b, series).map(*).reduce(0, +)
                for t in 0..<T { series[t] -= dot * b[t] }
            }
            for i in 0..<T where series[i] != 0 {
                let si = series[i]
                for j in i..<T { gram[i * T + j] += si * series[j] }
            }
        }
        for i in 0..<T { for j in 0..<i { gram[i * T + j] = gram[j * T + i] } }
        var components: [[Double]] = []
        for c in 0..<count {
            var x = (0..<T).map { Double(($0 * 7919 + c * 104729) % 1000) / 1000 - 0.5 }
            for _ in 0..<300 {
                var y = [Double](repeating: 0, count: T)
                for i in 0..<T { for j in 0..<T { y[i] += gram[i * T + j] * x[j] } }
                for previous in components {
                    let dot = zip(previous, y).map(*).reduce(0, +)
                    for i in 0..<T { y[i] -= dot * previous[i] }
                }
                let norm = y.map { $0 * $0 }.reduce(0, +).squareRoot()
                if norm == 0 { break }
                x = y.map { $0 / norm }
            }
            if x[0] < 0 { x = x.map { -$0 } }
            components.append(x)
        }
        return components
    }
}
