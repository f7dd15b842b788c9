// Training advice from the numbers a run already has, in char-rnn's terms:
// the gap between the training and the validation loss (overfitting), the
// number of parameters against the training characters (a model too small
// or too large for its data), and a validation loss that has turned upward.
// The thresholds are rnn-train(1)'s (TRAINING AND VALIDATION LOSS); every
// message names options that exist.

public struct FitReport: Equatable {
    public var parameters: Int
    public var trainingCharacters: Int
    /// The mean training loss since the validation before the last one
    /// (every logged iteration in between).
    public var meanTrainLoss: Double?
    public var valLoss: Double?
    /// The best validation loss and its iteration.
    public var best: (iteration: Int, loss: Double)?
    /// Lines of advice, empty when nothing is wrong.
    public var advice: [String]

    public static func == (a: FitReport, b: FitReport) -> Bool {
        a.parameters == b.parameters && a.trainingCharacters == b.trainingCharacters && a.meanTrainLoss == b.meanTrainLoss
            && a.valLoss == b.valLoss && a.best?.iteration == b.best?.iteration && a.best?.loss == b.best?.loss && a.advice == b.advice
    }

    /// validation − mean training loss.
    public var gap: Double? { meanTrainLoss.flatMap { t in valLoss.map { $0 - t } } }

    /// "fit: train 1.5234, val 1.6012 (+0.0778); 240k parameters for 1.06M training characters (0.23 per character)"
    public var line: String {
        var s = "fit: "
        if let t = meanTrainLoss, let v = valLoss, let g = gap {
            s += "mean train_loss \(fixed(t, 4)), val_loss \(fixed(v, 4)) (\(g >= 0 ? "+" : "")\(fixed(g, 4))); "
        }
        s += "\(shortNumber(Double(parameters))) parameters for \(shortNumber(Double(trainingCharacters))) training characters"
        s += " (\(fixed(Double(parameters) / Double(max(trainingCharacters, 1)), 2)) per character)"
        return s
    }
}

public enum Advice {
    /// Validation above training by more than this (nats): overfitting.
    public static let overfitGap = 0.15
    /// Validation above its best by more than this (nats): it turned upward.
    public static let risenBy = 0.02
    /// Fewer parameters per training character than this: underfitting,
    /// when the losses are close (gap below overfitGap / 3).
    public static let underfitRatio = 0.1
    /// More parameters per training character than this: overfits quickly.
    public static let overfitRatio = 10.0

    /// The training characters of a run: its training minibatches × batch ×
    /// sequence length (as the loader splits `tokens`).
    public static func trainingCharacters(tokens: Int, options: TrainOptions) -> Int {
        let per = options.batchSize * options.seqLength
        let batches = tokens / max(per, 1)
        return Int((Double(batches) * options.trainFrac).rounded(.down)) * per
    }

    /// The report after the latest validation in `history`.
    public static func diagnose(history: History, parameters: Int, trainingCharacters: Int, config: ModelConfig) -> FitReport {
        var report = FitReport(parameters: parameters, trainingCharacters: trainingCharacters, meanTrainLoss: nil,
                               valLoss: history.val.last?.1, best: nil, advice: [])
        if let last = history.val.last {
            let previous = history.val.dropLast().last?.0 ?? 0
            let window = history.train.filter { $0.0 > previous && $0.0 <= last.0 && $0.1.isFinite }
            if !window.isEmpty { report.meanTrainLoss = window.reduce(0) { $0 + $1.1 } / Double(window.count) }
            if let b = history.val.filter({ $0.1.isFinite }).min(by: { $0.1 < $1.1 }) { report.best = (b.0, b.1) }
        }
        let ratio = Double(parameters) / Double(max(trainingCharacters, 1))
        let counts = "\(shortNumber(Double(parameters))) parameters for \(shortNumber(Double(trainingCharacters))) characters"
        let smaller = "a smaller --rnn-size (now \(config.rnnSize))" + (config.numLayers > 1 ? " or --num-layers" : "")
        let moreDropout = config.dropout < 0.5 ? "--dropout 0.5 (now \(fixed(config.dropout, 2)))" : nil
        var overfitting = false
        if let g = report.gap, g > overfitGap {
            overfitting = true
            report.advice.append("validation loss \(fixed(g, 2)) above training loss: overfitting — try "
                                 + (moreDropout.map { "\($0) or \(smaller)" } ?? "\(smaller), or more data"))
        }
        if let v = report.valLoss, let b = report.best, v > b.loss + risenBy, history.val.last!.0 > b.iteration {
            report.advice.append("validation loss has risen \(fixed(v - b.loss, 2)) since its best (\(fixed(b.loss, 4)) at iteration \(b.iteration)): "
                                 + "further training makes it worse — keep the best checkpoint (rnn-ckpt best)"
                                 + (overfitting ? "" : ", and try " + (moreDropout ?? smaller)))
        }
        if ratio > overfitRatio && !overfitting {
            report.advice.append("\(counts): this model will overfit quickly — try " + (moreDropout.map { "\($0) or \(smaller)" } ?? smaller))
        } else if ratio < underfitRatio, report.gap.map({ $0 < overfitGap / 3 }) ?? true {
            report.advice.append("\(counts): this model will underfit — try a larger --rnn-size (now \(config.rnnSize))"
                                 + (config.dropout > 0 ? " or less --dropout" : ""))
        }
        return report
    }
}
