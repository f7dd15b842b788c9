// A small fork-join pool: `run` calls a body once per participant (the
// caller is participant 0) and returns when all are done. Work is split in
// fixed contiguous parts, so results depend only on the thread count.
#if canImport(Glibc)
import Glibc
#endif

public final class WorkerPool {
    public let count: Int
    private var threads: [pthread_t] = []
    private var mutex = pthread_mutex_t()
    private var wake = pthread_cond_t()
    private var done = pthread_cond_t()
    private var generation = 0
    private var pending = 0
    private var stopping = false
    private var job: ((Int) -> Void)? = nil

    public init(threads requested: Int) {
        count = max(1, requested)
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&wake, nil)
        pthread_cond_init(&done, nil)
        for index in 1..<count {
            let box = Unmanaged.passRetained(WorkerStart(pool: self, index: index))
            var thread = pthread_t()
            pthread_create(&thread, nil, { raw in
                let start = Unmanaged<WorkerStart>.fromOpaque(raw!).takeRetainedValue()
                start.pool.workerLoop(index: start.index)
                return nil
            }, box.toOpaque())
            self.threads.append(thread)
        }
    }

    deinit {
        pthread_mutex_lock(&mutex)
        stopping = true
        pthread_cond_broadcast(&wake)
        pthread_mutex_unlock(&mutex)
        for t in threads { pthread_join(t, nil) }
        pthread_mutex_destroy(&mutex)
        pthread_cond_destroy(&wake)
        pthread_cond_destroy(&done)
    }

    private func workerLoop(index: Int) {
        var seen = 0
        while true {
            pthread_mutex_lock(&mutex)
            while generation == seen && !stopping { pthread_cond_wait(&wake, &mutex) }
            if stopping { pthread_mutex_unlock(&mutex); return }
            seen = generation
            var body = job
            pthread_mutex_unlock(&mutex)
            body!(index)
            // Drop the reference before reporting done: the caller's closure
            // must not outlive `run`.
            body = nil
            pthread_mutex_lock(&mutex)
            pending -= 1
            if pending == 0 { pthread_cond_signal(&done) }
            pthread_mutex_unlock(&mutex)
        }
    }

    /// Runs body(0..<count) in parallel and waits for all of them.
    public func run(_ body: (Int) -> Void) {
        if count == 1 { body(0); return }
        withoutActuallyEscaping(body) { escaping in
            pthread_mutex_lock(&mutex)
            job = escaping
            pending = count - 1
            generation += 1
            pthread_cond_broadcast(&wake)
            pthread_mutex_unlock(&mutex)
            escaping(0)
            pthread_mutex_lock(&mutex)
            while pending > 0 { pthread_cond_wait(&done, &mutex) }
            job = nil
            pthread_mutex_unlock(&mutex)
        }
    }

    /// Splits 0..<n into `count` contiguous parts; runs body(part range) for each non-empty one.
    public func split(_ n: Int, _ body: (Range<Int>) -> Void) {
        run { part in
            let range = WorkerPool.range(n, parts: count, part: part)
            if !range.isEmpty { body(range) }
        }
    }

    public static func range(_ n: Int, parts: Int, part: Int) -> Range<Int> {
        let base = n / parts, extra = n % parts
        let start = part * base + min(part, extra)
        return start..<(start + base + (part < extra ? 1 : 0))
    }
}

private final class WorkerStart {
    let pool: WorkerPool
    let index: Int
    init(pool: WorkerPool, index: Int) {
        self.pool = pool
        self.index = index
    }
}
