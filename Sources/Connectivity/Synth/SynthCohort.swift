import Foundation

/// The synthetic cohort shaped like the ketamine study: 31 anxious-depressed patients (20
/// responders, 11 non-responders) and 18 non-anxious (9 and 9), each with MADRS scores at baseline
/// and day 13, and the planted coupling strengths every scan is generated with.
///
/// Planted effects (the truth the pipeline must recover), as correlations between latent region
/// signals; f = MADRS improvement fraction (baseline − day13) / baseline, n ~ N(0, 1) per subject
/// and session:
/// - left LBA ↔ left precuneus, anxious patients: baseline c = 0.95 f + 0.05 n, so responders
///   (f 0.55–0.85) are near 0.66 and non-responders (f 0–0.40) near 0.19, and baseline
///   coupling tracks the MADRS change; day 13: responders fall to 0.10 + 0.05 n, non-responders
///   keep their baseline value (+ 0.05 n). Non-anxious: 0.25 + 0.05 n at both sessions.
/// - right CMA ↔ right MTG: anxious 0.10 + 0.05 n, non-anxious 0.55 + 0.05 n, both sessions.
/// - With `null`, every coupling is 0.25 + 0.05 n for everyone: no group, time or clinical effect.
///
/// Head motion varies by subject and session (`Motion`), independently of group and of the
/// couplings, with and without `null`. Two scans of non-anxious subjects are planted to fail the
/// demo's QC rules: sub-14 at day 13 moves more than three times as much as the median subject
/// (mean FD above 0.5 mm), and sub-33 at baseline has 7 extra sub-millimetre jerks, each censoring
/// two volumes (more than 20 % of the run censored, with a mean FD well under 0.5 mm).
public struct SynthCohort: Sendable {
    /// A scan's head motion: `level` scales the random walk and the jerks of `SynthScan` (mean
    /// FD is about 0.28 mm × level), and `bursts` adds that many jerks of about 0.6 mm FD.
    public struct Motion: Sendable, Equatable {
        public var level: Double
        public var bursts: Int
    }

    /// The planted high-motion scans, by subject and session (see the type's comment).
    public static let plantedMotion: [String: [String: Motion]] = [
        "sub-14": ["day13": Motion(level: 2.0, bursts: 0)],
        "sub-33": ["baseline": Motion(level: 0.55, bursts: 7)],
    ]

    public struct Participant: Sendable {
        public var id: String
        public var group: String
        public var responder: Bool
        public var age: Int
        public var sex: String
        public var madrsBaseline: Int
        public var madrsDay13: Int
        /// (day13 − baseline) / baseline × 100: negative is improvement.
        public var madrsChangePercent: Double
        /// Planted couplings by session, then pair.
        public var coupling: [String: [SynthPair: Double]]
        /// Head motion by session.
        public var motion: [String: Motion]
    }

    /// The seed-target pairs with planted couplings.
    public enum SynthPair: String, Sendable, CaseIterable {
        case lbaPrecuneus = "LBA_left-precuneus_left"
        case cmaMTG = "CMA_right-MTG_right"

        public var regions: (seed: String, target: String) {
            switch self {
            case .lbaPrecuneus: ("LBA_left", "precuneus_left")
            case .cmaMTG: ("CMA_right", "MTG_right")
            }
        }
    }

    public static let sessions = ["baseline", "day13"]
    public let participants: [Participant]
    public let seed: UInt64
    public let null: Bool

    public init(seed: UInt64, null: Bool) {
        self.seed = seed
        self.null = null
        // Group membership is fixed (not seeded), so documentation and tests can name subjects.
        var kinds: [(String, Bool)] = Array(repeating: ("anxious", true), count: 20) + Array(repeating: ("anxious", false), count: 11)
            + Array(repeating: ("nonanxious", true), count: 9) + Array(repeating: ("nonanxious", false), count: 9)
        var order = SynthRandom(seed: 2026)
        for i in stride(from: kinds.count - 1, to: 0, by: -1) { kinds.swapAt(i, Int(order.next() % UInt64(i + 1))) }
        participants = kinds.enumerated().map { index, kind in
            let id = String(format: "sub-%02d", index + 1)
            var rng = SynthRandom(seed: SynthRandom.derive(seed, id, "clinical"))
            let baseline = Int((32 + 5 * rng.normal()).rounded()).clamped(22, 50)
            let f = kind.1 ? rng.uniform(0.55...0.85) : rng.uniform(0.0...0.40)
            let day13 = Int((Double(baseline) * (1 - f)).rounded())
            let change = Double(day13 - baseline) / Double(baseline) * 100
            let realized = Double(baseline - day13) / Double(baseline)
            var coupling: [String: [SynthPair: Double]] = [:]
            let n = (0..<4).map { _ in 0.05 * rng.normal() }
            if null {
                coupling["baseline"] = [.lbaPrecuneus: 0.25 + n[0], .cmaMTG: 0.25 + n[1]]
                coupling["day13"] = [.lbaPrecuneus: 0.25 + n[2], .cmaMTG: 0.25 + n[3]]
            } else if kind.0 == "anxious" {
                let base = 0.95 * realized + n[0]
                coupling["baseline"] = [.lbaPrecuneus: base, .cmaMTG: 0.10 + n[1]]
                coupling["day13"] = [.lbaPrecuneus: kind.1 ? 0.10 + n[2] : base + n[2], .cmaMTG: 0.10 + n[3]]
            } else {
                coupling["baseline"] = [.lbaPrecuneus: 0.25 + n[0], .cmaMTG: 0.55 + n[1]]
                coupling["day13"] = [.lbaPrecuneus: 0.25 + n[2], .cmaMTG: 0.55 + n[3]]
            }
            let age = Int((42 + 12 * rng.normal()).rounded()).clamped(19, 70)
            let sex = rng.uniform() < 0.55 ? "F" : "M"
            // Motion from its own stream, so the clinical draws above do not depend on it: a
            // subject trait (log-normal around 0.55, mean FD about 0.15 mm) with session jitter.
            var motionRNG = SynthRandom(seed: SynthRandom.derive(seed, id, "motion"))
            let trait = 0.3 * motionRNG.normal()
            var motion: [String: Motion] = [:]
            for session in Self.sessions {
                motion[session] = Self.plantedMotion[id]?[session] ?? Motion(level: 0.55 * exp(trait + 0.15 * motionRNG.normal()), bursts: 0)
            }
            return Participant(id: id, group: kind.0, responder: kind.1, age: age, sex: sex,
                               madrsBaseline: baseline, madrsDay13: day13, madrsChangePercent: change, coupling: coupling,
                               motion: motion)
        }
    }

    /// participants.tsv.
    public func participantsTSV(_ selected: [Participant]) -> String {
        var lines = ["participant_id\tgroup\tresponder\tage\tsex\tmadrs_baseline\tmadrs_day13\tmadrs_change_pct"]
        for p in selected {
            lines.append([p.id, p.group, p.responder ? "responder" : "nonresponder", String(p.age), p.sex,
                          String(p.madrsBaseline), String(p.madrsDay13), String(format: "%.2f", p.madrsChangePercent)].joined(separator: "\t"))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The planted couplings and head motion per subject and session, as TSV (the truth for tests).
    public func truthTSV(_ selected: [Participant]) -> String {
        var lines = ["participant_id\tsession\t" + SynthPair.allCases.map(\.rawValue).joined(separator: "\t") + "\tmotion_level\tmotion_bursts"]
        for p in selected {
            for session in Self.sessions {
                let motion = p.motion[session]!
                lines.append(([p.id, session] + SynthPair.allCases.map { String(format: "%.4f", p.coupling[session]![$0]!) }
                              + [String(format: "%.4f", motion.level), String(motion.bursts)]).joined(separator: "\t"))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension Int {
    func clamped(_ lo: Int, _ hi: Int) -> Int { Swift.min(Swift.max(self, lo), hi) }
}
