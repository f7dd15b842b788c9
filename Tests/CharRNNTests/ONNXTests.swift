// rnn-ckpt export --format onnx, read back through swift-protobuf: the
// graph's interface, its metadata, and the weights in ONNX's gate order.
// onnxruntime runs the exported models in Tests/e2e/onnx.sh.
import XCTest
@testable import CharRNNCore
@testable import CharRNNONNX
import SwiftProtobuf

final class ONNXTests: XCTestCase {
    func checkpoint(_ cell: CellKind, layers: Int, embedding: Int) -> Checkpoint {
        let V = 7
        let config = ModelConfig(cell: cell, rnnSize: 5, numLayers: layers, embeddingSize: embedding, dropout: 0, vocabSize: V)
        var rng = RNG(seed: 3)
        let params = initialParameters(ParamLayout(config), rng: &rng)
        let vocab = Vocab(unit: .char, symbols: [10] + (1..<UInt32(V)).map { 0x3B0 + $0 }, counts: Array(repeating: 2, count: V))
        var progress = Progress()
        progress.valLoss = 1.25
        progress.iteration = 40
        return Checkpoint(config: config, vocab: vocab, params: params, optimizer: nil, options: TrainOptions(),
                          progress: progress, history: History(), stateH: [], stateC: [])
    }

    func floats(_ t: Onnx_TensorProto) -> [Float] {
        XCTAssertEqual(t.dataType, Int32(Onnx_TensorProto.DataType.float.rawValue))
        return stride(from: 0, to: t.rawData.count, by: 4).map { i in
            let b = [UInt8](t.rawData[(t.rawData.startIndex + i)..<(t.rawData.startIndex + i + 4)])
            return Float(bitPattern: UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24)
        }
    }

    func testInterfaceMetadataAndGateOrder() throws {
        // ONNX's gate blocks, by our (PyTorch's) block names: LSTM i o f c
        // = our i o f g; GRU z r h = our z r n (ONNX operator docs).
        let onnxBlocks: [CellKind: [String]] = [.lstm: ["i", "o", "f", "g"], .gru: ["z", "r", "n"], .rnn: ["h"]]
        let ourBlocks: [CellKind: [String]] = [.lstm: ["i", "f", "g", "o"], .gru: ["r", "z", "n"], .rnn: ["h"]]
        for cell in CellKind.allCases {
            for (layers, embedding) in [(1, 0), (3, 4)] {
                let ckpt = checkpoint(cell, layers: layers, embedding: embedding)
                let what = "\(cell) \(layers) layers, embedding \(embedding)"
                let bytes = try ONNXExport.model(ckpt, name: "m.ckpt", producerVersion: "test")
                let model = try Onnx_ModelProto(serializedBytes: bytes)
                XCTAssertEqual(model.irVersion, 7)
                XCTAssertEqual(model.opsetImport.map(\.version), [14])
                XCTAssertEqual(model.producerName, "charrnn")
                let meta = Dictionary(uniqueKeysWithValues: model.metadataProps.map { ($0.key, $0.value) })
                XCTAssertEqual(meta["vocab"], ckpt.vocab.tsv, what)
                XCTAssertEqual(meta["config"], ckpt.config.json.text, what)
                XCTAssertEqual(meta["symbols"], "[10,945,946,947,948,949,950]", what)
                XCTAssertEqual(meta["unit"], "char")
                XCTAssertEqual(meta["val_loss"], "1.25")
                XCTAssertEqual(meta["iteration"], "40")
                let g = model.graph
                let states = cell == .lstm ? ["h0", "c0"] : ["h0"]
                XCTAssertEqual(g.input.map(\.name), ["tokens"] + states, what)
                XCTAssertEqual(g.output.map(\.name), ["logits"] + states.map { String($0.prefix(1)) + "n" }, what)
                let stateDims = g.input[1].type.tensorType.shape.dim
                XCTAssertEqual(stateDims.map(\.dimValue), [Int64(layers), 0, 5])
                XCTAssertEqual(stateDims[1].dimParam, "batch")
                let op = ["lstm": "LSTM", "gru": "GRU", "rnn": "RNN"][cell.rawValue]!
                let recurrent = g.node.filter { $0.opType == op }
                XCTAssertEqual(recurrent.count, layers, what)
                XCTAssertEqual(g.node.contains { $0.opType == (embedding > 0 ? "Gather" : "OneHot") }, true, what)
                for node in recurrent {
                    let attrs = Dictionary(uniqueKeysWithValues: node.attribute.map { ($0.name, $0.i) })
                    XCTAssertEqual(attrs["hidden_size"], 5)
                    XCTAssertEqual(attrs["linear_before_reset"], cell == .gru ? 1 : nil, what)
                }

                // Layer 1's W, R and B hold our weights with the blocks reordered.
                let k = layers - 1
                let inits = Dictionary(uniqueKeysWithValues: g.initializer.map { ($0.name, $0) })
                let l = ckpt.layout.layers[k]
                let H = 5, I = ckpt.config.inputSize(layer: k)
                let W = floats(try XCTUnwrap(inits["layer\(k).W"])), R = floats(try XCTUnwrap(inits["layer\(k).R"]))
                let B = floats(try XCTUnwrap(inits["layer\(k).B"]))
                let G = cell.gates
                XCTAssertEqual(inits["layer\(k).W"]!.dims, [1, Int64(G * H), Int64(I)])
                XCTAssertEqual(B.count, 2 * G * H)
                for (b, gate) in onnxBlocks[cell]!.enumerated() {
                    let ours = ourBlocks[cell]!.firstIndex(of: gate)!
                    XCTAssertEqual(Array(W[(b * H * I)..<((b + 1) * H * I)]),
                                   Array(ckpt.params[(l.weightIH + ours * H * I)..<(l.weightIH + (ours + 1) * H * I)]), "\(what) W \(gate)")
                    XCTAssertEqual(Array(R[(b * H * H)..<((b + 1) * H * H)]),
                                   Array(ckpt.params[(l.weightHH + ours * H * H)..<(l.weightHH + (ours + 1) * H * H)]), "\(what) R \(gate)")
                    XCTAssertEqual(Array(B[(b * H)..<((b + 1) * H)]),
                                   Array(ckpt.params[(l.biasIH + ours * H)..<(l.biasIH + (ours + 1) * H)]), "\(what) Wb \(gate)")
                    XCTAssertEqual(Array(B[((G + b) * H)..<((G + b + 1) * H)]),
                                   Array(ckpt.params[(l.biasHH + ours * H)..<(l.biasHH + (ours + 1) * H)]), "\(what) Rb \(gate)")
                }
                // The decoder, transposed for MatMul.
                let Wd = floats(try XCTUnwrap(inits["decoder.weight_transposed"]))
                for v in 0..<7 {
                    for h in 0..<H { XCTAssertEqual(Wd[h * 7 + v], ckpt.params[ckpt.layout.decoderWeight + v * H + h]) }
                }
            }
        }
    }
}
