// Each cell kernel of kernels.h, forward and backward, on every instruction
// set this CPU runs, against the reference's per-cell step functions
// (ReferenceCell, in Double) one by one: rows of an odd width (partial
// vector chunks) and of a whole one.
import XCTest
@testable import CharRNNCore
import CSupport

final class CellKernelTests: XCTestCase {
    var rng = RNG(seed: 31)

    func random(_ n: Int, _ scale: Double = 2) -> [Float] { (0..<n).map { _ in Float((rng.uniform() - 0.5) * scale) } }

    func worst(_ got: [Float], _ want: [Double]) -> Double {
        zip(got, want).map { abs(Double($0) - $1) }.max() ?? 0
    }

    func testCellKernelsMatchTheReferenceSteps() {
        defer { charrnn_use_isa(charrnn_isa_best()) }
        for isa in supportedISAs {
            charrnn_use_isa(isa)
            let name = String(cString: charrnn_isa_name(isa))
            for H in [37, 16] {
                checkLSTM(rows: 5, H: H, "\(name) H=\(H)")
                checkGRU(rows: 5, H: H, "\(name) H=\(H)")
                checkRNN(rows: 5, H: H, "\(name) H=\(H)")
            }
        }
    }

    /// Row r's slice of a (rows, width) array, in Double.
    func row(_ a: [Float], _ r: Int, _ width: Int) -> [Double] { a[(r * width)..<((r + 1) * width)].map(Double.init) }

    func checkLSTM(rows: Int, H: Int, _ what: String) {
        let gates = random(rows * 4 * H, 6), bias = random(4 * H), cPrev = random(rows * H)
        var acts = gates, cNext = [Float](repeating: 0, count: rows * H), tanhC = cNext, hNext = cNext
        charrnn_lstm_forward(&acts, bias, cPrev, &cNext, &tanhC, &hNext, rows, H)
        let dAbove = random(rows * H), dhNext = random(rows * H), dcNext0 = random(rows * H)
        var dPre = [Float](repeating: 0, count: rows * 4 * H), dcNext = dcNext0
        charrnn_lstm_backward(acts, cPrev, tanhC, dAbove, dhNext, &dcNext, &dPre, rows, H)
        var fw = 0.0, bw = 0.0
        for r in 0..<rows {
            let f = ReferenceCell<Double>.lstmForward(xa: row(gates, r, 4 * H), ha: bias.map(Double.init), cPrev: row(cPrev, r, H), H: H)
            fw = max(fw, worst(Array(acts[(r * 4 * H)..<((r + 1) * 4 * H)]), f.acts), worst(Array(cNext[(r * H)..<((r + 1) * H)]), f.c),
                     worst(Array(hNext[(r * H)..<((r + 1) * H)]), f.h), worst(Array(tanhC[(r * H)..<((r + 1) * H)]), f.c.map(tanh)))
            // Backward from the kernel's own forward values (so only the backward is tested).
            let dh = zip(row(dAbove, r, H), row(dhNext, r, H)).map { $0 + $1 }
            let b = ReferenceCell<Double>.lstmBackward(acts: row(acts, r, 4 * H), cPrev: row(cPrev, r, H),
                                                       cNext: row(cNext, r, H), dh: dh, dcNext: row(dcNext0, r, H), H: H)
            bw = max(bw, worst(Array(dPre[(r * 4 * H)..<((r + 1) * 4 * H)]), b.dxa), worst(Array(dcNext[(r * H)..<((r + 1) * H)]), b.dcPrev))
        }
        XCTAssertLessThan(fw, 1e-5, "\(what): lstm forward")
        XCTAssertLessThan(bw, 1e-5, "\(what): lstm backward")
    }

    func checkGRU(rows: Int, H: Int, _ what: String) {
        let xg = random(rows * 3 * H, 6), bias = random(3 * H), hg = random(rows * 3 * H, 4), hPrev = random(rows * H)
        var acts = xg, hNext = [Float](repeating: 0, count: rows * H)
        charrnn_gru_forward(&acts, bias, hg, hPrev, &hNext, rows, H)
        let dAbove = random(rows * H), dhNext0 = random(rows * H)
        var dX = [Float](repeating: 0, count: rows * 3 * H), dH = dX, dhNext = dhNext0
        charrnn_gru_backward(acts, hg, hPrev, dAbove, &dhNext, &dX, &dH, rows, H)
        var fw = 0.0, bw = 0.0
        for r in 0..<rows {
            let xa = zip(row(xg, r, 3 * H), bias.map(Double.init)).map { $0 + $1 }
            let f = ReferenceCell<Double>.gruForward(xa: xa, ha: row(hg, r, 3 * H), hPrev: row(hPrev, r, H), H: H)
            fw = max(fw, worst(Array(acts[(r * 3 * H)..<((r + 1) * 3 * H)]), f.acts), worst(Array(hNext[(r * H)..<((r + 1) * H)]), f.h))
            let dh = zip(row(dAbove, r, H), row(dhNext0, r, H)).map { $0 + $1 }
            let hn = Array(row(hg, r, 3 * H)[(2 * H)...])
            let b = ReferenceCell<Double>.gruBackward(acts: row(acts, r, 3 * H), hPrev: row(hPrev, r, H), hn: hn, dh: dh, H: H)
            bw = max(bw, worst(Array(dX[(r * 3 * H)..<((r + 1) * 3 * H)]), b.dxa), worst(Array(dH[(r * 3 * H)..<((r + 1) * 3 * H)]), b.dha),
                     worst(Array(dhNext[(r * H)..<((r + 1) * H)]), b.dhPrev))
        }
        XCTAssertLessThan(fw, 1e-5, "\(what): gru forward")
        XCTAssertLessThan(bw, 1e-5, "\(what): gru backward")
    }

    func checkRNN(rows: Int, H: Int, _ what: String) {
        let pre = random(rows * H, 6), bias = random(H)
        var acts = pre, hNext = [Float](repeating: 0, count: rows * H)
        charrnn_rnn_forward(&acts, bias, &hNext, rows, H)
        let dAbove = random(rows * H), dhNext = random(rows * H)
        var dPre = [Float](repeating: 0, count: rows * H)
        charrnn_rnn_backward(acts, dAbove, dhNext, &dPre, rows, H)
        var fw = 0.0, bw = 0.0
        for r in 0..<rows {
            let f = ReferenceCell<Double>.rnnForward(xa: row(pre, r, H), ha: bias.map(Double.init), H: H)
            fw = max(fw, worst(Array(acts[(r * H)..<((r + 1) * H)]), f.acts), worst(Array(hNext[(r * H)..<((r + 1) * H)]), f.h))
            let dh = zip(row(dAbove, r, H), row(dhNext, r, H)).map { $0 + $1 }
            let b = ReferenceCell<Double>.rnnBackward(acts: row(acts, r, H), dh: dh, H: H)
            bw = max(bw, worst(Array(dPre[(r * H)..<((r + 1) * H)]), b.dxa))
        }
        XCTAssertLessThan(fw, 1e-5, "\(what): rnn forward")
        XCTAssertLessThan(bw, 1e-5, "\(what): rnn backward")
    }
}
