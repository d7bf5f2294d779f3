/// A minimal complex number for the filter design and the FFT (internal; not a general complex type).
///
/// Only what `ButterworthFilter` (zpk arithmetic) and `RadixTwoFFT` need: +, -, *, /, conjugate,
/// modulus and the principal square root (branch cut on the negative real axis, as numpy's `sqrt`).
struct SignalComplex: Sendable, Equatable {
    var re: Double
    var im: Double

    init(_ re: Double, _ im: Double = 0) {
        self.re = re
        self.im = im
    }

    static func + (a: SignalComplex, b: SignalComplex) -> SignalComplex { SignalComplex(a.re + b.re, a.im + b.im) }
    static func - (a: SignalComplex, b: SignalComplex) -> SignalComplex { SignalComplex(a.re - b.re, a.im - b.im) }
    static prefix func - (a: SignalComplex) -> SignalComplex { SignalComplex(-a.re, -a.im) }
    static func * (a: SignalComplex, b: SignalComplex) -> SignalComplex {
        SignalComplex(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re)
    }
    static func * (a: SignalComplex, s: Double) -> SignalComplex { SignalComplex(a.re * s, a.im * s) }
    static func / (a: SignalComplex, b: SignalComplex) -> SignalComplex {
        // Smith's algorithm, robust against overflow.
        if abs(b.re) >= abs(b.im) {
            let r = b.im / b.re, d = b.re + b.im * r
            return SignalComplex((a.re + a.im * r) / d, (a.im - a.re * r) / d)
        } else {
            let r = b.re / b.im, d = b.re * r + b.im
            return SignalComplex((a.re * r + a.im) / d, (a.im * r - a.re) / d)
        }
    }
    var conjugate: SignalComplex { SignalComplex(re, -im) }
    var modulus: Double { (re * re + im * im).squareRoot() }

    /// The principal square root.
    var squareRoot: SignalComplex {
        if im == 0 {
            return re >= 0 ? SignalComplex(re.squareRoot(), im) : SignalComplex(0, (-re).squareRoot())
        }
        let m = modulus
        let r = ((m + abs(re)) / 2).squareRoot()
        if re >= 0 { return SignalComplex(r, im / (2 * r)) }
        return SignalComplex(abs(im) / (2 * r), im >= 0 ? r : -r)
    }
}
