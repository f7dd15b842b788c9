// char-rnn's minibatch loader: the tokens truncated to a multiple of
// batch×seq, targets shifted by one (the last wrapping to the first),
// laid out as `batch` parallel streams; minibatch i is columns
// [i·seq, (i+1)·seq) of every stream. Split into train/val/test batches.

public struct Loader {
    public let tokens: TokenIDs
    public let batch: Int
    public let seqLength: Int
    public let length: Int          // tokens used (multiple of batch·seq)
    public let streamLength: Int    // length / batch
    public let batches: Int
    public let ntrain: Int
    public let nval: Int
    public let ntest: Int

    public init(tokens: Tensor, batch: Int, seqLength: Int, trainFrac: Double, valFrac: Double, name: String) throws {
        self.tokens = TokenIDs(tokens)
        self.batch = batch
        self.seqLength = seqLength
        let per = batch * seqLength
        let total = tokens.count
        batches = total / per
        length = batches * per
        streamLength = length / batch
        let train = Int((Double(batches) * trainFrac).rounded(.down))
        ntrain = train
        if trainFrac + valFrac >= 1 {
            nval = batches - train
        } else {
            nval = Int((Double(batches) * valFrac).rounded(.down))
        }
        ntest = batches - ntrain - nval
        if ntrain < 1 || nval < 1 {
            // The fewest minibatches that give one of each under this split.
            var fewest = 1
            while fewest < 1_000_000 {
                let t = Int((Double(fewest) * trainFrac).rounded(.down))
                let v = trainFrac + valFrac >= 1 ? fewest - t : Int((Double(fewest) * valFrac).rounded(.down))
                if t >= 1 && v >= 1 { break }
                fewest += 1
            }
            let need = fewest * per
            throw CharRNNError("\(name) has \(total) characters: too few for one train and one validation minibatch of \(batch)×\(seqLength) (\(batches) minibatches; train \(ntrain), val \(nval))",
                               hint: "use a smaller --batch-size or --seq-length (this split needs about \(need) characters), or more text")
        }
    }

    /// Fills time-major inputs and targets (index t·rows + b) of minibatch i,
    /// for streams `rows` (default all of them; a process of a data-parallel
    /// run takes its share).
    public func fill(batch i: Int, rows: Range<Int>? = nil, inputs: UnsafeMutablePointer<Int32>, targets: UnsafeMutablePointer<Int32>) {
        let rows = rows ?? 0..<batch
        let width = rows.count
        for b in rows {
            let base = b * streamLength + i * seqLength
            let column = b - rows.lowerBound
            for t in 0..<seqLength {
                let p = base + t
                inputs[t * width + column] = Int32(tokens[p])
                // Target: the next token; the very last wraps to the first.
                targets[t * width + column] = Int32(p + 1 < length ? tokens[p + 1] : tokens[0])
            }
        }
    }
}
