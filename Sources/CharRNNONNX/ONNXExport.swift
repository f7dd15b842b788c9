// rnn-ckpt export --format onnx: the model as a standard ONNX graph
// (opset 14, IR version 7) that onnxruntime and other runtimes load.
//
// Graph (charrnn-files(5), "ONNX models", gives the contract):
//   inputs   tokens  int64 (batch, steps): symbol ids (the metadata's vocab)
//            h0      float (layers, batch, H): the hidden state, zeros to start
//            c0      float (layers, batch, H): LSTM only, the cell state
//   outputs  logits  float (batch, steps, V): scores of the next symbol
//            hn, cn  float (layers, batch, H): the state after the last step,
//                    to feed back as h0, c0 for the next call
//
// tokens are made time-major (Transpose), then one-hot (OneHot) or looked
// up in encoder.weight (Gather). Each layer is one of ONNX's recurrent
// operators, LSTM, GRU or RNN, forward, with its slice of h0 (and c0) as
// initial state (Split along the layer axis); its Y (steps, 1, batch, H) is
// squeezed to feed the next layer, and Y_h (Y_c) are concatenated into hn
// (cn). The last layer's output goes batch-major again and through the
// decoder: MatMul by decoder.weightᵀ, Add decoder.bias.
//
// Our cells are PyTorch's (ReferenceCell). ONNX orders the gate blocks
// differently: LSTM i, o, f, c where ours are i, f, g, o; GRU z, r, h where
// ours are r, z, n. The blocks of W, R and both biases are permuted here.
// ONNX GRU with linear_before_reset = 1 applies r to (R_h h + Rb_h), as
// PyTorch (and ours) do. B is [Wb, Rb]: the input bias then the recurrent
// one, as our b_ih and b_hh.
//
// The metadata (ModelProto.metadata_props) holds "vocab" (the text of
// `rnn-ckpt vocab`), "config" (the checkpoint's model config as JSON),
// "name" (the checkpoint's file name), "unit" ("char" or "byte"),
// "symbols" (a JSON list of each id's code point or byte value: the vocab
// without parsing the TSV), and "val_loss", "iteration" when the checkpoint
// has them.
//
// The protobuf is written with apple/swift-protobuf; onnx.pb.swift is
// generated from ONNX's onnx.proto (see the header of that file).
import CharRNNCore
import Foundation
import SwiftProtobuf

public enum ONNXExport {
    /// The ONNX operator set the graph is written for.
    public static let opset: Int64 = 14
    /// ONNX IR version 7 goes with opset 14 (ONNX 1.9).
    public static let irVersion: Int64 = 7

    /// The serialised ModelProto for `checkpoint`, `name` its file name.
    public static func model(_ checkpoint: Checkpoint, name: String, producerVersion: String) throws -> [UInt8] {
        var builder = Builder(checkpoint)
        let graph = builder.graph()
        var model = Onnx_ModelProto()
        model.irVersion = irVersion
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = ONNXExport.opset
        model.opsetImport = [opset]
        model.producerName = "charrnn"
        model.producerVersion = producerVersion
        model.docString = docString(checkpoint.config)
        model.graph = graph
        let vocab = checkpoint.vocab
        var meta: [(String, String)] = [
            ("vocab", vocab.tsv), ("config", checkpoint.config.json.text), ("name", name),
            ("unit", vocab.unit.rawValue),
            ("symbols", "[" + vocab.symbols.map { String($0) }.joined(separator: ",") + "]"),
        ]
        let progress = checkpoint.progress
        if let v = progress.valLoss, v.isFinite { meta.append(("val_loss", String(v))) }
        if progress.iteration > 0 { meta.append(("iteration", String(progress.iteration))) }
        model.metadataProps = meta.map { key, value in
            var entry = Onnx_StringStringEntryProto()
            entry.key = key
            entry.value = value
            return entry
        }
        do {
            return Array(try model.serializedData())
        } catch {
            throw CharRNNError("cannot encode the ONNX model: \(error)")
        }
    }

    static func docString(_ config: ModelConfig) -> String {
        let lstm = config.cell == .lstm
        return """
            charrnn \(config.description). Inputs: tokens int64 (batch, steps), symbol ids by the "vocab" metadata; \
            h0\(lstm ? " and c0" : "") float (\(config.numLayers), batch, \(config.rnnSize)), zeros to start. \
            Outputs: logits float (batch, steps, \(config.vocabSize)), the scores of the next symbol; \
            hn\(lstm ? " and cn" : ""), the state to pass as h0\(lstm ? " and c0" : "") next time.
            """
    }

    /// Gate blocks of ONNX's order, as indices of ours (PyTorch's).
    static func gateOrder(_ cell: CellKind) -> [Int] {
        switch cell {
        case .lstm: return [0, 3, 1, 2]   // i, o, f, c  from  i, f, g, o
        case .gru: return [1, 0, 2]       // z, r, h     from  r, z, n
        case .rnn: return [0]
        }
    }

    /// Builds the graph node by node.
    struct Builder {
        let checkpoint: Checkpoint
        let config: ModelConfig
        var nodes: [Onnx_NodeProto] = []
        var initializers: [Onnx_TensorProto] = []

        init(_ checkpoint: Checkpoint) {
            self.checkpoint = checkpoint
            self.config = checkpoint.config
        }

        mutating func graph() -> Onnx_GraphProto {
            let L = config.numLayers, H = config.rnnSize, V = config.vocabSize
            let lstm = config.cell == .lstm
            let states = lstm ? ["h", "c"] : ["h"]
            let layout = checkpoint.layout
            let params = checkpoint.params

            node("Transpose", ["tokens"], ["tokens_time_major"], [int64s("perm", [1, 0])])
            if let encoder = layout.encoder {
                let E = config.embeddingSize
                let table = floats("encoder.weight", Array(params[encoder..<(encoder + V * E)]), [V, E])
                node("Gather", [table, "tokens_time_major"], ["x0"], [int64("axis", 0)])
            } else {
                let depth = int64Tensor("onehot_depth", [Int64(V)], [1])
                let values = floats("onehot_values", [0, 1], [2])
                node("OneHot", ["tokens_time_major", depth, values], ["x0"], [int64("axis", -1)])
            }
            for s in states where L > 1 {
                node("Split", ["\(s)0"], (0..<L).map { "\(s)0_layer\($0)" }, [int64("axis", 0)])
            }
            let squeezeAxes = int64Tensor("squeeze_axes", [1], [1])
            let order = ONNXExport.gateOrder(config.cell)
            let G = config.cell.gates
            var x = "x0"
            var finals: [String: [String]] = ["h": [], "c": []]
            for k in 0..<L {
                let l = layout.layers[k]
                let I = config.inputSize(layer: k)
                func permuted(_ offset: Int, columns: Int) -> [Float] {
                    var out: [Float] = []
                    out.reserveCapacity(G * H * columns)
                    for b in order { out += params[(offset + b * H * columns)..<(offset + (b + 1) * H * columns)] }
                    return out
                }
                let W = floats("layer\(k).W", permuted(l.weightIH, columns: I), [1, G * H, I])
                let R = floats("layer\(k).R", permuted(l.weightHH, columns: H), [1, G * H, H])
                let B = floats("layer\(k).B", permuted(l.biasIH, columns: 1) + permuted(l.biasHH, columns: 1), [1, 2 * G * H])
                var inputs = [x, W, R, B, "", L > 1 ? "h0_layer\(k)" : "h0"]
                var outputs = ["layer\(k).Y", "layer\(k).Y_h"]
                if lstm {
                    inputs.append(L > 1 ? "c0_layer\(k)" : "c0")
                    outputs.append("layer\(k).Y_c")
                }
                var attributes = [int64("hidden_size", H)]
                if config.cell == .gru { attributes.append(int64("linear_before_reset", 1)) }
                let op: String
                switch config.cell {
                case .lstm: op = "LSTM"
                case .gru: op = "GRU"
                case .rnn: op = "RNN"
                }
                node(op, inputs, outputs, attributes, name: "layer\(k)")
                node("Squeeze", ["layer\(k).Y", squeezeAxes], ["layer\(k).y"])
                x = "layer\(k).y"
                finals["h"]!.append("layer\(k).Y_h")
                if lstm { finals["c"]!.append("layer\(k).Y_c") }
            }
            for s in states {
                if L > 1 {
                    node("Concat", finals[s]!, ["\(s)n"], [int64("axis", 0)])
                } else {
                    node("Identity", finals[s]!, ["\(s)n"])
                }
            }
            node("Transpose", [x], ["top_batch_major"], [int64s("perm", [1, 0, 2])])
            // decoder.weight is (V, H); MatMul wants (H, V).
            var decoderT = [Float](repeating: 0, count: V * H)
            for v in 0..<V {
                for h in 0..<H { decoderT[h * V + v] = params[layout.decoderWeight + v * H + h] }
            }
            let Wd = floats("decoder.weight_transposed", decoderT, [H, V])
            let bd = floats("decoder.bias", Array(params[layout.decoderBias..<(layout.decoderBias + V)]), [V])
            node("MatMul", ["top_batch_major", Wd], ["decoded"])
            node("Add", ["decoded", bd], ["logits"])

            var graph = Onnx_GraphProto()
            graph.name = "charrnn"
            graph.node = nodes
            graph.initializer = initializers
            let stateShape: [Dim] = [.value(L), .param("batch"), .value(H)]
            graph.input = [valueInfo("tokens", .int64, [.param("batch"), .param("steps")])]
                + states.map { valueInfo("\($0)0", .float, stateShape) }
            graph.output = [valueInfo("logits", .float, [.param("batch"), .param("steps"), .value(V)])]
                + states.map { valueInfo("\($0)n", .float, stateShape) }
            return graph
        }

        mutating func node(_ op: String, _ inputs: [String], _ outputs: [String], _ attributes: [Onnx_AttributeProto] = [],
                           name: String? = nil) {
            var n = Onnx_NodeProto()
            n.opType = op
            n.name = name ?? outputs[0]
            n.input = inputs
            n.output = outputs
            n.attribute = attributes
            nodes.append(n)
        }

        /// Adds a float32 initializer; returns its name.
        mutating func floats(_ name: String, _ values: [Float], _ shape: [Int]) -> String {
            precondition(values.count == shape.reduce(1, *), "\(name): \(values.count) values for \(shape)")
            var t = Onnx_TensorProto()
            t.name = name
            t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
            t.dims = shape.map(Int64.init)
            t.rawData = Data(Tensor(floats: values, shape: shape).bytes)
            initializers.append(t)
            return name
        }

        /// Adds an int64 initializer; returns its name.
        mutating func int64Tensor(_ name: String, _ values: [Int64], _ shape: [Int]) -> String {
            var t = Onnx_TensorProto()
            t.name = name
            t.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
            t.dims = shape.map(Int64.init)
            t.rawData = values.withUnsafeBytes { Data($0) }   // little-endian, as tensor files
            initializers.append(t)
            return name
        }
    }

    static func int64(_ name: String, _ value: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .int
        a.i = Int64(value)
        return a
    }

    static func int64s(_ name: String, _ values: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .ints
        a.ints = values.map(Int64.init)
        return a
    }

    enum Dim {
        case value(Int)
        case param(String)
    }

    static func valueInfo(_ name: String, _ type: Onnx_TensorProto.DataType, _ shape: [Dim]) -> Onnx_ValueInfoProto {
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = Int32(type.rawValue)
        var s = Onnx_TensorShapeProto()
        s.dim = shape.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            switch d {
            case .value(let v): dim.dimValue = Int64(v)
            case .param(let p): dim.dimParam = p
            }
            return dim
        }
        tensor.shape = s
        var type = Onnx_TypeProto()
        type.tensorType = tensor
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type = type
        return info
    }
}
