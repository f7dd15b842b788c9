// How rnn-train reports: a status line on a terminal, log lines otherwise,
// JSON lines for --metrics, nothing but errors with --quiet.

public final class ConsoleTrainReporter: TrainReporter {
    let quiet: Bool
    let terminal: Bool
    let metrics: ByteSink?
    var statusShown = false

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
        let perIteration = seconds / Double(max(iteration, 1))
        let line = "\(iteration)/\(total) (epoch \(fixed(epoch, 3))), train_loss = \(fixed(trainLoss, 4)) (\(fixed(trainLoss / 0.6931471805599453, 3)) bits/char), lr = \(shortNumber(learningRate)), \(shortNumber(charsPerSecond)) chars/s"
        if terminal {
            let eta = Double(total - iteration) * perIteration
            writeStderr("\r\u{1B}[K" + line + ", ETA " + formatDuration(eta))
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
        info("validation at \(iteration)/\(total) (epoch \(fixed(epoch, 2))): val_loss = \(fixed(valLoss, 4)) (\(fixed(valLoss / 0.6931471805599453, 3)) bits/char), saved \(checkpoint)")
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

/// 1234567 -> "1.23M", 45200 -> "45.2k", 0.002 -> "2.0e-3"
public func shortNumber(_ x: Double) -> String {
    let a = abs(x)
    if a == 0 { return "0" }
    if a >= 1e6 { return fixed(x / 1e6, 2) + "M" }
    if a >= 1e3 { return fixed(x / 1e3, 1) + "k" }
    if a >= 1 { return fixed(x, 2) }
    var e = 0
    var m = a
    while m < 1 { m *= 10; e += 1 }
    return (x < 0 ? "-" : "") + fixed(m, 1) + "e-" + String(e)
}

public func formatDuration(_ s: Double) -> String {
    if !s.isFinite || s < 0 { return "?" }
    let total = Int(s.rounded())
    if total >= 3600 { return "\(total / 3600)h\(String(format2(total % 3600 / 60)))m" }
    if total >= 60 { return "\(total / 60)m\(String(format2(total % 60)))s" }
    return "\(total)s"
}

func format2(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

#if canImport(Glibc)
import Glibc
#endif
