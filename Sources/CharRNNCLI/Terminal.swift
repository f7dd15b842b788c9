// Standard error and terminals: where the tools' messages go (the core
// never prints).
#if canImport(Glibc)
import Glibc
#endif

/// True when the file descriptor is a terminal.
public func isTerminal(_ fd: Int32) -> Bool { isatty(fd) != 0 }

/// Writes one line to stderr, unbuffered.
public func printError(_ line: String) {
    var text = line + "\n"
    text.withUTF8 { buf in
        var done = 0
        while done < buf.count {
            let n = Glibc.write(2, buf.baseAddress! + done, buf.count - done)
            if n <= 0 { if errno == EINTR { continue }; return }
            done += n
        }
    }
}

/// Says so when a tool is about to read stdin and stdin is a terminal, so
/// that it never waits without a word.
public func noteTerminalInput(tool: String, what: String = "text", example: String) {
    if isTerminal(0) {
        printError("\(tool): reading \(what) from the terminal; end it with Ctrl-D (or give a file: \(example))")
    }
}
