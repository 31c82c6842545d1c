import Foundation
import Testing
@testable import Cytometry

/// Reference values computed with FlowUtils 1.2.2 (`flowutils.transforms.logicle` / `hyperlog`,
/// the Moore–Parks C implementation) for x = −1000, −100, −10, −1, 0, 0.5, 1, 10, 100, 1000, 10⁴, 10⁵, 262144.
@Suite("Transforms")
struct TransformTests {
    static let xs: [Double] = [-1000, -100, -10, -1, 0, 0.5, 1, 10, 100, 1000, 10_000, 100_000, 262_144]

    static let logicleReference: [(T: Double, W: Double, M: Double, A: Double, ys: [Double])] = [
        (262144, 0.5, 4.5, 0, [-0.23211535395017646, 0.009041134692025388, 0.099917946544774, 0.1099906900730379, 0.1111111111111111,
                               0.11167132576445324, 0.11223153214918431, 0.12230427567744821, 0.21318108753019682, 0.45433757617239867,
                               0.6838326572265573, 0.9069275914814589, 1.0]),
        (10000, 0.5, 4.5, 0, [-0.5552111897123125, -0.32991447704064314, -0.08827358847776162, 0.08194276228884934, 0.1111111111111111,
                              0.12577163752246948, 0.14027945993337287, 0.31049581069998383, 0.5521366992628653, 0.7774334119345347,
                              1.0, 1.2222581007202409, 1.3152694724798402]),
        (10000, 1, 4, 0.5, [-0.10182013417637403, 0.1711770654953605, 0.31444588072846696, 0.3314416125134491, 0.3333333333333333,
                            0.33427920468888395, 0.3352250541532175, 0.35222078593819967, 0.49548960117130614, 0.7684868008430407,
                            1.0, 1.2233366622577724, 1.3164294711440103]),
        (262144, 1, 4.5, 1, [0.21301810421678857, 0.3451673395111008, 0.361785273110961, 0.36345125053874633, 0.36363636363636365,
                             0.36372892020043457, 0.36382147673398096, 0.3654874541617663, 0.3821053877616265, 0.5142546230559387,
                             0.735089760361276, 0.9233820398610036, 1.0]),
    ]

    static let hyperlogReference: [(T: Double, W: Double, M: Double, A: Double, ys: [Double])] = [
        (10000, 1, 4.5, 0, [-0.3269263479497604, -0.06670699255497359, 0.16796205625418364, 0.2164813700812903, 0.2222222222222222,
                            0.22510083310417, 0.22796307436315413, 0.2764823881902608, 0.511151436999418, 0.7713707923942048,
                            1.0, 1.2231212637072209, 1.3162076368700135]),
        (262144, 0.5, 4.5, 0, [-0.21683562112984384, 0.026258145648262704, 0.10139614363057406, 0.11012745711864644, 0.1111111111111111,
                               0.11160327384024295, 0.11209476510357577, 0.12082607859164815, 0.1959640765739595, 0.43905784335206605,
                               0.6810828984135445, 0.906677584496927, 1.0]),
    ]

    @Test("logicle equals FlowUtils to 1e-12, including near zero and for negative values")
    func logicleReference() throws {
        for reference in Self.logicleReference {
            let logicle = try LogicleTransform(T: reference.T, W: reference.W, M: reference.M, A: reference.A)
            for (x, expected) in zip(Self.xs, reference.ys) {
                #expect(abs(logicle.apply(x) - expected) < 1e-12, "logicle(\(x); T=\(reference.T) W=\(reference.W) M=\(reference.M) A=\(reference.A)) = \(logicle.apply(x)), FlowUtils \(expected)")
            }
        }
    }

    @Test("hyperlog equals FlowUtils to 1e-12")
    func hyperlogReference() throws {
        for reference in Self.hyperlogReference {
            let hyperlog = try HyperlogTransform(T: reference.T, W: reference.W, M: reference.M, A: reference.A)
            for (x, expected) in zip(Self.xs, reference.ys) {
                #expect(abs(hyperlog.apply(x) - expected) < 1e-12, "hyperlog(\(x)) = \(hyperlog.apply(x)), FlowUtils \(expected)")
            }
        }
    }

    @Test("logicle and hyperlog invert exactly and are monotone across zero")
    func inverses() throws {
        let logicle = try LogicleTransform(T: 262144, W: 0.5, M: 4.5, A: 0)
        let hyperlog = try HyperlogTransform(T: 262144, W: 0.5, M: 4.5, A: 0)
        var previous = (-Double.infinity, -Double.infinity)
        for x in stride(from: -5000.0, through: 262144, by: 97.3) {
            let (l, h) = (logicle.apply(x), hyperlog.apply(x))
            #expect(abs(logicle.inverse(l) - x) <= 1e-9 * max(1, abs(x)))
            #expect(abs(hyperlog.inverse(h) - x) <= 1e-9 * max(1, abs(x)))
            #expect(l > previous.0 && h > previous.1)
            previous = (l, h)
        }
        #expect(logicle.apply(0) == logicle.x1 && logicle.apply(262144) == 1)
        // Symmetry of the negative branch: y(−x) = 2·x1 − y(x).
        #expect(abs(logicle.apply(-123.4) - (2 * logicle.x1 - logicle.apply(123.4))) < 1e-15)
    }

    @Test("the interpolated logicle and hyperlog stay within 1e-12 of the exact solver everywhere")
    func interpolationAccuracy() throws {
        let transforms: [(String, (Double) -> Double, (Double) -> Double)] = try [
            LogicleTransform(T: 262144, W: 0.5, M: 4.5, A: 0), LogicleTransform(T: 10000, W: 1, M: 4, A: 0.5),
            LogicleTransform(T: 262144, W: 0, M: 4.5, A: 0),
        ].map { t in ("logicle \(t.W) \(t.A)", t.apply, t.solve) } + [
            HyperlogTransform(T: 10000, W: 1, M: 4.5, A: 0), HyperlogTransform(T: 262144, W: 0.5, M: 4.5, A: 0),
        ].map { t in ("hyperlog \(t.W)", t.apply, t.solve) }
        for (name, fast, exact) in transforms {
            var worst = 0.0
            var v = 1e-4
            while v < 1e7 {
                for x in [v, -v, v * 1.000_37] { worst = max(worst, abs(fast(x) - exact(x))) }
                v *= 1.0013
            }
            #expect(worst < 1e-12, "\(name): largest difference \(worst)")
        }
    }

    @Test("closed-form Gating-ML transforms")
    func closedForms() throws {
        #expect(Transformation.linear(T: 10000, A: 500).apply(0) == 500.0 / 10500)
        #expect(Transformation.log(T: 10000, M: 5).apply(10000) == 1)
        #expect(abs(Transformation.log(T: 10000, M: 5).apply(1) - 0.2) < 1e-15)
        #expect(Transformation.log(T: 10000, M: 5).apply(0).isNaN)
        let fasinh = Transformation.asinh(T: 10000, M: 4, A: 1)
        #expect(abs(fasinh.apply(0) - 0.2) < 1e-15)
        #expect(abs(fasinh.apply(10000) - 1) < 1e-12)
        #expect(abs(fasinh.inverse(fasinh.apply(1234.5)) - 1234.5) < 1e-9)
        #expect(Transformation.asinhCofactor(150).apply(150) == asinh(1.0))
        let bounded = BoundedTransformation(.linear(T: 100, A: 0), boundMin: 0, boundMax: 1)
        #expect(bounded.apply(-50) == 0 && bounded.apply(250) == 1 && bounded.apply(50) == 0.5)
    }

    @Test("parameters outside their domain are typed errors")
    func domains() {
        #expect(throws: CytometryError.self) { try LogicleTransform(T: 262144, W: 3, M: 4.5, A: 0) }
        #expect(throws: CytometryError.self) { try LogicleTransform(T: 0, W: 0.5, M: 4.5, A: 0) }
        #expect(throws: CytometryError.self) { try HyperlogTransform(T: 1000, W: 0, M: 4.5, A: 0) }
        #expect(throws: CytometryError.self) { try Transformation.validated(.log(T: 100, M: 0)) }
        #expect(throws: CytometryError.self) { try Transformation.validated(.asinhCofactor(-1)) }
    }
}

@Suite("Shared logicle tables")
struct SharedTableTests {
    @Test("transforms with the same parameters share one table, and give the values a table of their own gives")
    func shared() throws {
        let parameters = (T: 262_144.0, W: 0.61, M: 4.37, A: 0.0)   // used by no other test
        let key = TabulatedInverse.Key(kind: .logicle, parameters: [parameters.T, parameters.W, parameters.M, parameters.A].map(\.bitPattern))
        let a = try LogicleTransform(T: parameters.T, W: parameters.W, M: parameters.M, A: parameters.A)
        let b = try LogicleTransform(T: parameters.T, W: parameters.W, M: parameters.M, A: parameters.A)
        #expect(TabulatedInverse.tables.withLock { $0[key] } != nil)
        let own = TabulatedInverse(exact: { a.solve($0) }, derivative: { 1 / a.slope(atScale: a.solve($0)) })
        for v in stride(from: -5_000.0, through: 250_000, by: 777.7) {
            #expect(a.apply(v) == b.apply(v) && a.fast?.lookup(v) == own.lookup(v))
        }
    }
}
