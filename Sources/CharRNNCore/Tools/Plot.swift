// Loss curves: an SVG (several runs overlaid, train thin, validation bold,
// axes labelled, legend) or a small character chart for the terminal.

public struct LossRun {
    public var label: String
    public var train: [(Int, Double)]
    public var val: [(Int, Double)]
    public init(label: String, train: [(Int, Double)], val: [(Int, Double)]) {
        self.label = label
        self.train = train
        self.val = val
    }
}

extension LossRun {
    /// The lowest validation loss and its iteration.
    public var best: (Int, Double)? { val.filter { $0.1.isFinite }.min { $0.1 < $1.1 } }

    /// The first validation after the best that is above it by more than
    /// Advice.risenBy: where the validation loss turned upward.
    public var turnedUpward: (Int, Double)? {
        guard let b = best else { return nil }
        return val.first { $0.0 > b.0 && $0.1.isFinite && $0.1 > b.1 + Advice.risenBy }
    }

    /// One run per (folder, savefile) of the summaries: its latest
    /// checkpoint has the whole history.
    public static func runs(of summaries: [CheckpointSummary]) -> [LossRun] {
        var latest: [String: CheckpointSummary] = [:]
        for s in summaries {
            let key = splitPath(s.path).0 + "/" + s.options.savefile
            if let old = latest[key], old.progress.iteration >= s.progress.iteration { continue }
            latest[key] = s
        }
        return latest.keys.sorted().map { key -> LossRun in
            let s = latest[key]!
            return LossRun(label: "\(key) (\(s.config.numLayers)×\(s.config.rnnSize) \(s.config.cell.rawValue))",
                           train: s.history.train, val: s.history.val)
        }
    }
}

/// Round tick steps: 1, 2 or 5 times a power of ten.
func niceStep(_ span: Double, ticks: Int) -> Double {
    let raw = max(span, 1e-12) / Double(ticks)
    var p = 1.0
    while p * 10 <= raw { p *= 10 }
    while p > raw { p /= 10 }
    for m in [1.0, 2.0, 5.0, 10.0] where p * m >= raw { return p * m }
    return p * 10
}

func escapeXML(_ s: String) -> String {
    var out = ""
    for ch in s {
        switch ch {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        default: out.append(ch)
        }
    }
    return out
}

public func plotSVG(_ runs: [LossRun], title: String = "charrnn loss") -> String {
    let width = 860.0, height = 500.0
    let left = 70.0, right = 230.0, top = 40.0, bottom = 60.0
    let plotW = width - left - right, plotH = height - top - bottom
    let points = runs.flatMap { $0.train + $0.val }.filter { $0.1.isFinite }
    let xMax = Double(points.map(\.0).max() ?? 1)
    let xMin = 0.0
    var yMin = points.map(\.1).min() ?? 0, yMax = points.map(\.1).max() ?? 1
    if yMax - yMin < 1e-9 { yMin -= 0.5; yMax += 0.5 }
    let yStep = niceStep(yMax - yMin, ticks: 6)
    yMin = (yMin / yStep).rounded(.down) * yStep
    yMax = (yMax / yStep).rounded(.up) * yStep
    let xStep = niceStep(max(xMax - xMin, 1), ticks: 8)
    func px(_ x: Double) -> Double { left + (x - xMin) / max(xMax - xMin, 1) * plotW }
    func py(_ y: Double) -> Double { top + (1 - (y - yMin) / (yMax - yMin)) * plotH }
    let colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
    var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
    svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    svg += "<text x=\"\(fixed(left + plotW / 2, 1))\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">\(escapeXML(title))</text>\n"
    // Grid and ticks.
    var y = yMin
    while y <= yMax + yStep / 2 {
        let yy = fixed(py(y), 1)
        svg += "<line x1=\"\(fixed(left, 1))\" y1=\"\(yy)\" x2=\"\(fixed(left + plotW, 1))\" y2=\"\(yy)\" stroke=\"#ddd\"/>\n"
        svg += "<text x=\"\(fixed(left - 6, 1))\" y=\"\(yy)\" text-anchor=\"end\" dominant-baseline=\"middle\">\(fixed(y, yStep < 0.1 ? 2 : 1))</text>\n"
        y += yStep
    }
    var x = xMin
    while x <= xMax + xStep / 2 {
        let xx = fixed(px(x), 1)
        svg += "<line x1=\"\(xx)\" y1=\"\(fixed(top, 1))\" x2=\"\(xx)\" y2=\"\(fixed(top + plotH, 1))\" stroke=\"#eee\"/>\n"
        svg += "<text x=\"\(xx)\" y=\"\(fixed(top + plotH + 18, 1))\" text-anchor=\"middle\">\(Int(x))</text>\n"
        x += xStep
    }
    svg += "<rect x=\"\(fixed(left, 1))\" y=\"\(fixed(top, 1))\" width=\"\(fixed(plotW, 1))\" height=\"\(fixed(plotH, 1))\" fill=\"none\" stroke=\"#333\"/>\n"
    svg += "<text x=\"\(fixed(left + plotW / 2, 1))\" y=\"\(fixed(height - 15, 1))\" text-anchor=\"middle\">iteration</text>\n"
    svg += "<text transform=\"translate(18 \(fixed(top + plotH / 2, 1))) rotate(-90)\" text-anchor=\"middle\">loss (nats per character)</text>\n"
    // Curves and legend.
    for (i, run) in runs.enumerated() {
        let color = colors[i % colors.count]
        func path(_ pts: [(Int, Double)]) -> String {
            pts.filter { $0.1.isFinite }.map { "\(fixed(px(Double($0.0)), 1)),\(fixed(py($0.1), 1))" }.joined(separator: " ")
        }
        if run.train.count > 1 {
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-opacity=\"0.45\" stroke-width=\"1\" points=\"\(path(run.train))\"/>\n"
        }
        if !run.val.isEmpty {
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2.5\" points=\"\(path(run.val))\"/>\n"
            for p in run.val where p.1.isFinite {
                svg += "<circle cx=\"\(fixed(px(Double(p.0)), 1))\" cy=\"\(fixed(py(p.1), 1))\" r=\"3\" fill=\"\(color)\"/>\n"
            }
            if let b = run.best {
                let (x, y) = (px(Double(b.0)), py(b.1))
                svg += "<circle class=\"best\" cx=\"\(fixed(x, 1))\" cy=\"\(fixed(y, 1))\" r=\"7\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
                svg += "<text x=\"\(fixed(x, 1))\" y=\"\(fixed(y + 20, 1))\" text-anchor=\"middle\" font-size=\"11\" fill=\"\(color)\">best \(fixed(b.1, 4))</text>\n"
            }
            if let u = run.turnedUpward {
                let (x, y) = (px(Double(u.0)), py(u.1))
                svg += "<line class=\"upward\" x1=\"\(fixed(x, 1))\" y1=\"\(fixed(top, 1))\" x2=\"\(fixed(x, 1))\" y2=\"\(fixed(top + plotH, 1))\" stroke=\"\(color)\" stroke-dasharray=\"4 4\"/>\n"
                svg += "<text x=\"\(fixed(x + 4, 1))\" y=\"\(fixed(y - 10, 1))\" font-size=\"11\" fill=\"\(color)\">val turned upward (iteration \(u.0))</text>\n"
            }
        }
        let ly = top + 10 + Double(i) * 38
        let lx = left + plotW + 15
        svg += "<line x1=\"\(fixed(lx, 1))\" y1=\"\(fixed(ly, 1))\" x2=\"\(fixed(lx + 22, 1))\" y2=\"\(fixed(ly, 1))\" stroke=\"\(color)\" stroke-width=\"2.5\"/>\n"
        svg += "<text x=\"\(fixed(lx + 28, 1))\" y=\"\(fixed(ly, 1))\" dominant-baseline=\"middle\">\(escapeXML(run.label))</text>\n"
        let best = run.val.map(\.1).filter(\.isFinite).min()
        svg += "<text x=\"\(fixed(lx + 28, 1))\" y=\"\(fixed(ly + 15, 1))\" dominant-baseline=\"middle\" fill=\"#555\" font-size=\"11\">val (bold) best \(best.map { fixed($0, 4) } ?? "–"), train (thin)</text>\n"
    }
    svg += "</svg>\n"
    return svg
}

/// A small chart for the terminal: '.' train, '*' validation (first run
/// uses . and *, others letters), axes with loss and iteration ranges.
public func plotASCII(_ runs: [LossRun], width: Int = 70, height: Int = 18) -> String {
    let points = runs.flatMap { $0.train + $0.val }.filter { $0.1.isFinite }
    guard !points.isEmpty else { return "(no losses recorded)\n" }
    let xMax = Double(max(points.map(\.0).max()!, 1))
    var yMin = points.map(\.1).min()!, yMax = points.map(\.1).max()!
    if yMax - yMin < 1e-9 { yMin -= 0.5; yMax += 0.5 }
    var grid = Array(repeating: Array(repeating: Character(" "), count: width), count: height)
    // Who drew each cell: a later run never hides an earlier one (a cell
    // two runs share shows '#'), and a validation point wins over its own
    // run's training points.
    var owner = Array(repeating: Array(repeating: -1, count: width), count: height)
    var overlaps = false
    func put(_ p: (Int, Double), _ ch: Character, run: Int) {
        let col = min(width - 1, max(0, Int(Double(p.0) / xMax * Double(width - 1))))
        let row = min(height - 1, max(0, Int(((yMax - p.1) / (yMax - yMin) * Double(height - 1)).rounded())))
        if owner[row][col] == -1 || owner[row][col] == run {
            owner[row][col] = run
            grid[row][col] = ch
        } else {
            grid[row][col] = "#"
            overlaps = true
        }
    }
    let marks: [(Character, Character)] = [(".", "*"), ("a", "A"), ("b", "B"), ("c", "C"), ("d", "D")]
    for (i, run) in runs.enumerated() {
        for p in run.train where p.1.isFinite { put(p, marks[min(i, marks.count - 1)].0, run: i) }
    }
    for (i, run) in runs.enumerated() {
        for p in run.val where p.1.isFinite { put(p, marks[min(i, marks.count - 1)].1, run: i) }
    }
    var marked = false
    for (i, run) in runs.enumerated() {
        if let b = run.best { put(b, "@", run: i); marked = true }
        if let u = run.turnedUpward { put(u, "^", run: i) }
    }
    var out = ""
    for (r, row) in grid.enumerated() {
        let label = r == 0 ? fixed(yMax, 3) : (r == height - 1 ? fixed(yMin, 3) : "")
        out += String(repeating: " ", count: max(0, 8 - label.count)) + label + " |" + String(row) + "\n"
    }
    out += String(repeating: " ", count: 9) + "+" + String(repeating: "-", count: width) + "\n"
    let endLabel = "\(Int(xMax))"
    out += String(repeating: " ", count: 10) + "0" + String(repeating: " ", count: max(1, width - 1 - endLabel.count)) + endLabel + "  iteration\n"
    for (i, run) in runs.enumerated() {
        let (t, v) = marks[min(i, marks.count - 1)]
        out += "  \(t) train  \(v) val  \(run.label)\n"
    }
    if marked { out += "  @ best val" + (runs.contains { $0.turnedUpward != nil } ? "  ^ val turned upward" : "") + "\n" }
    if overlaps { out += "  # more than one run\n" }
    return out
}
