// How rnn-train reports: a status line on a terminal, log lines otherwise,
// JSON lines for --metrics, nothing but errors with --quiet.
#if canImport(Glibc)
import Glibc
#endif
import CharRNNCore

public final class ConsoleTrainReporter: TrainReporter {
    let quiet: Bool
    let terminal: Bool
    let metrics: ByteSink?
    var statusShown = false
    /// The iteration this run started at (a resumed run's), and its time
    /// limit: the ETA counts whichever limit comes first.
    public var startIteration = 0
    public var maxSeconds: Double?

    public init(quiet: Bool, terminal: Bool, metrics: ByteSink?) {
        self.quiet = quiet
        self.terminal = terminal
        self.metrics = metrics
    }

    func clearStatus() {
        if statusShown { writeStderr("\r\u{1B}[K"); statusShown = false }
    }

    public func info(_ line: String) {
        guard !quiet else { return }
        clearStatus()
        printError(line)
    }

    public func progress(iteration: Int, total: Int, epoch: Double, trainLoss: Double, learningRate: Double,
                         charsPerSecond: Double, seconds: Double) {
        writeMetrics([("iteration", .int(iteration)), ("epoch", .double(epoch)), ("train_loss", .double(trainLoss)),
                      ("val_loss", .null), ("learning_rate", .double(learningRate)),
                      ("chars_per_sec", .double(charsPerSecond.rounded())), ("seconds", .double((seconds * 1000).rounded() / 1000))])
        guard !quiet else { return }
        let done = max(iteration - startIteration, 1)
        var eta = Double(total - iteration) * seconds / Double(done)
        if let maxSeconds { eta = min(eta, max(0, maxSeconds - seconds)) }
        let line = "\(iteration)/\(total) (epoch \(fixed(epoch, 3))), train_loss = \(fixed(trainLoss, 4)) (\(fixed(trainLoss / ln2, 3)) bits/char), lr = \(shortNumber(learningRate)), \(shortNumber(charsPerSecond)) chars/s, \(formatDuration(seconds)) elapsed, ETA \(formatDuration(eta))"
        if terminal {
            writeStderr("\r\u{1B}[K" + line)
            statusShown = true
        } else {
            printError(line)
        }
    }

    public func validation(iteration: Int, total: Int, epoch: Double, valLoss: Double, learningRate: Double,
                           checkpoint: String, seconds: Double) {
        writeMetrics([("iteration", .int(iteration)), ("epoch", .double(epoch)), ("train_loss", .null),
                      ("val_loss", .double(valLoss)), ("learning_rate", .double(learningRate)),
                      ("chars_per_sec", .null), ("seconds", .double((seconds * 1000).rounded() / 1000))])
        info("validation at \(iteration)/\(total) (epoch \(fixed(epoch, 2))): val_loss = \(fixed(valLoss, 4)) (\(fixed(valLoss / ln2, 3)) bits/char), saved \(checkpoint)")
    }

    public func fit(_ report: FitReport) {
        info("  " + report.line)
        for line in report.advice { info("  advice: " + line) }
    }

    public func warning(_ line: String) {
        clearStatus()
        printError("rnn-train: warning: " + line)
    }

    public func sample(iteration: Int, text: String) {
        info("sample at iteration \(iteration):\n\(text)\n---")
    }

    func writeMetrics(_ members: [(String, JSONValue)]) {
        guard let metrics else { return }
        do {
            try metrics.write(JSONValue.object(members).text + "\n")
            try metrics.flush()
        } catch {
            // Metrics are best effort; a closed pipe must not stop training.
        }
    }

    public func finish() { clearStatus() }
}

func writeStderr(_ text: String) {
    var t = text
    t.withUTF8 { buf in _ = write(2, buf.baseAddress, buf.count) }
}
