// What a compute backend implements for the network (RecurrentNetwork.swift):
// buffers, the matrix products, the cells' element-wise steps forward and
// backward, the decoder with its softmax cross-entropy, dropout and the
// weight gradients. The network's layer loop, step loop and per-cell
// choices are written once over this interface; each backend keeps its own
// fast paths inside its implementation (the CPU: packed weights, the
// kernel plan, threads over batch rows; OpenCL: kernels on the device).
//
// Buffers are addressed as (buffer, element offset). B = batch rows,
// T = steps, N = T·B rows in time-major order (row t·B + b), H = rnn size,
// G = gates (LSTM 4: i,f,g,o; GRU 3: r,z,n; RNN 1), GH = G·H, V = vocab,
// In = the layer's input width. Weights are read from `params` through
// ParamLayout's offsets.

/// A layer's input for the products: the one-hot tokens (layer 0 without an
/// embedding) or dense rows (N, In).
public enum LayerInput<Floats, Ids> {
    case oneHot(Ids)
    case dense(Floats, Int)
}

/// What a recurrent product adds its result to.
public enum ProductStart<Ids> {
    /// The output's current values (the input projection made before).
    case accumulate
    /// Layer `layer`'s one-hot input columns of W_ih for the rows' tokens
    /// (ids from row `row`): input projection and recurrence in one product.
    case oneHotInput(Ids, row: Int)
    /// The bias at this offset of the parameters (GRU's b_hh), every row.
    case bias(Int)
}

public protocol NetworkOps: AnyObject {
    /// A buffer of floats on the device.
    associatedtype Floats
    /// A buffer of token ids on the device.
    associatedtype Ids

    // ---- Memory ----------------------------------------------------------------
    func floats(_ count: Int, _ what: String) throws -> Floats
    func ids(_ count: Int, _ what: String) throws -> Ids
    func upload(_ ids: UnsafePointer<Int32>, count: Int, to: Ids) throws
    func upload(_ values: UnsafePointer<Float>, count: Int, to: Floats, at: Int) throws
    func download(_ from: Floats, at: Int, count: Int, into: UnsafeMutablePointer<Float>) throws
    func copy(_ from: Floats, at: Int, to: Floats, at: Int, count: Int) throws
    func zero(_ buffer: Floats, at: Int, count: Int) throws

    // ---- Work split ------------------------------------------------------------
    /// Runs body(b0, nb) for blocks of the batch's rows that may run in
    /// parallel (rows of a batch never depend on each other): the CPU one
    /// block per thread, a device the whole batch at once.
    func rowBlocks(_ batch: Int, _ body: (Int, Int) throws -> Void) throws

    // ---- Forward ---------------------------------------------------------------
    /// Makes ready what layer k's forward products derive from the weights
    /// (packed copies, the one-hot transpose) and writes its bias as the
    /// cell kernels add it into `bias` (GH): b_ih + b_hh (LSTM, RNN) or b_ih
    /// (GRU). Kept until `weightsChanged`.
    func prepareForward(layer k: Int, params: Floats, bias: Floats) throws
    /// Whether layer k's input products are made step by step (inside the
    /// step loop) rather than for all steps before it.
    func inputByStep(layer k: Int) -> Bool
    /// out (rows×GH) = input rows [row, row + rows) · W_ih^T, no bias.
    func inputProduct(layer k: Int, params: Floats, input: LayerInput<Floats, Ids>, row: Int, rows: Int,
                      into out: Floats, at: Int) throws
    /// out (rows×GH) = start + h (rows×H) · W_hh^T.
    func recurrentProduct(layer k: Int, params: Floats, h: Floats, at hAt: Int, rows: Int, start: ProductStart<Ids>,
                          into out: Floats, at: Int) throws
    /// out (rows×width) = the rows of the table at `table` (params) for ids
    /// [row, row + rows): the embedding lookup.
    func gatherRows(params: Floats, table: Int, ids: Ids, row: Int, rows: Int, width: Int, into out: Floats, at: Int) throws

    /// LSTM step (kernels.h's charrnn_lstm_forward) on `rows` rows.
    func lstmForward(gates: Floats, at g: Int, bias: Floats, c: Floats, prev cp: Int, next cn: Int, tanhC: Floats, at tc: Int,
                     h: Floats, next hn: Int, rows: Int) throws
    /// GRU step: xg (rows×3H) and hg (rows×3H) at their offsets.
    func gruForward(xg: Floats, at x: Int, bias: Floats, hg: Floats, at hgAt: Int, h: Floats, prev hp: Int, next hn: Int,
                    rows: Int) throws
    /// RNN step: pre (rows×H) replaced by tanh(pre + bias), copied to h.
    func rnnForward(pre: Floats, at p: Int, bias: Floats, h: Floats, next hn: Int, rows: Int) throws

    /// Draws layer k's dropout mask (RNG stream order as drawDropout) and
    /// writes out = input · mask (N×H).
    func dropout(layer k: Int, keep: Float, rng: inout RNG, steps: Int, batch: Int, share: BatchShare?,
                 input: Floats, at: Int, into out: Floats, count: Int) throws

    /// logits (rows×V) = top (rows×H) · W_dec^T + b_dec; with `targets`,
    /// returns the summed cross-entropy of their softmax (in Double) and,
    /// with a gradient scale, leaves (softmax − onehot)·scale in `logits`.
    func decoder(params: Floats, top: Floats, at: Int, rows: Int, logits: Floats, targets: Ids?,
                 gradientScale: Float?) throws -> Double

    // ---- Backward --------------------------------------------------------------
    /// d top (rows×H) = dz · W_dec; adds dW_dec and db_dec into grads.
    func decoderBackward(params: Floats, grads: Floats, dz: Floats, top: Floats, at: Int, rows: Int,
                         into dTop: Floats) throws
    /// d (N×H) *= layer k's mask of the last forward.
    func dropoutBackward(layer k: Int, d: Floats, count: Int) throws
    /// As prepareForward, for the backward products of layer k.
    func prepareBackward(layer k: Int, params: Floats) throws
    /// Whether layer k's input gradient is made step by step.
    func inputGradientByStep(layer k: Int) -> Bool

    func lstmBackward(acts: Floats, at a: Int, c: Floats, prev cp: Int, tanhC: Floats, at tc: Int, dAbove: Floats, at da: Int,
                      dhNext: Floats, dcNext: Floats, at dn: Int, dPre: Floats, at dp: Int, rows: Int) throws
    func gruBackward(acts: Floats, at a: Int, hg: Floats, at hgAt: Int, h: Floats, prev hp: Int, dAbove: Floats, at da: Int,
                     dhNext: Floats, at dn: Int, dX: Floats, dH: Floats, at dp: Int, rows: Int) throws
    func rnnBackward(acts: Floats, at a: Int, dAbove: Floats, at da: Int, dhNext: Floats, at dn: Int, dPre: Floats, at dp: Int,
                     rows: Int) throws

    /// dh (rows×H) = (accumulate: dh +) d (rows×GH) · W_hh.
    func recurrentGradient(layer k: Int, params: Floats, d: Floats, at: Int, rows: Int, accumulate: Bool,
                           into dh: Floats, at dhAt: Int) throws
    /// dx (rows×In) = d (rows×GH) · W_ih.
    func inputGradient(layer k: Int, params: Floats, d: Floats, at: Int, rows: Int, into dx: Floats, at dxAt: Int) throws
    /// Layer k's weight and bias gradients over all N rows, added into
    /// grads: dW_hh from dHH and h (h_{t-1} rows), the biases' column sums
    /// (LSTM, RNN: dHH is dPre, both biases get its sums), dW_ih from dPre
    /// and the input (one-hot: a scatter of dPre's rows).
    func weightGradients(layer k: Int, grads: Floats, dPre: Floats, dHH: Floats, h: Floats,
                         input: LayerInput<Floats, Ids>, rows: Int) throws
    /// table rows [ids] += src rows (the embedding's gradient).
    func scatterRows(grads: Floats, table: Int, src: Floats, ids: Ids, rows: Int, width: Int) throws

    // ---- Weights ---------------------------------------------------------------
    /// The weights changed: what prepareForward/prepareBackward derived from
    /// them must be made again.
    func weightsChanged()
}
