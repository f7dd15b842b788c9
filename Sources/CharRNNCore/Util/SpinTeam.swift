// A fork-join team for short jobs that come thousands of times a second
// (sampling's matrix-vector products, ~100 µs each): helpers wait by
// spinning, so a job starts within a fraction of a microsecond, and fall
// back to sleeps after ~0.5 ms without work (50 µs, then 0.5 ms after
// ~10 ms), so an idle sampler (its output pipe full, say) does not hold a
// core. WorkerPool's condition
// variables take tens of microseconds to wake a thread, as long as the job.
import Synchronization
import CSupport
#if canImport(Glibc)
import Glibc
#endif

public final class SpinTeam: @unchecked Sendable {
    public let count: Int
    private let generation = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    /// Written before `generation` is raised (release), read after (acquire).
    private var job: ((Int) -> Void)? = nil
    private var threads: [pthread_t] = []

    public init(threads requested: Int) {
        count = max(1, requested)
        for index in 1..<count {
            let box = Unmanaged.passRetained(SpinTeamStart(team: self, index: index))
            var thread = pthread_t()
            pthread_create(&thread, nil, { raw in
                let start = Unmanaged<SpinTeamStart>.fromOpaque(raw!).takeRetainedValue()
                start.team.workerLoop(index: start.index)
                return nil
            }, box.toOpaque())
            threads.append(thread)
        }
    }

    deinit {
        stopping.store(true, ordering: .releasing)
        for t in threads { pthread_join(t, nil) }
    }

    private func workerLoop(index: Int) {
        var seen = 0
        while true {
            var idle = 0
            while generation.load(ordering: .acquiring) == seen {
                if stopping.load(ordering: .acquiring) { return }
                idle += 1
                if idle < 4096 { charrnn_cpu_relax() } else if idle < 4096 + 200 { usleep(50) } else { usleep(500) }
            }
            seen += 1
            do {
                let body = job!
                body(index)
            }
            finished.add(1, ordering: .releasing)
        }
    }

    /// Runs body(0..<count) in parallel (the caller is 0) and waits for all.
    public func run(_ body: (Int) -> Void) {
        if count == 1 { body(0); return }
        withoutActuallyEscaping(body) { escaping in
            job = escaping
            finished.store(0, ordering: .relaxed)
            generation.add(1, ordering: .releasing)
            escaping(0)
            var spins = 0
            while finished.load(ordering: .acquiring) < count - 1 {
                spins += 1
                if spins < 1 << 16 { charrnn_cpu_relax() } else { sched_yield() }
            }
            job = nil
        }
    }
}

private final class SpinTeamStart {
    let team: SpinTeam
    let index: Int
    init(team: SpinTeam, index: Int) {
        self.team = team
        self.index = index
    }
}
