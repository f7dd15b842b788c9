// Small C helpers for the CharRNN library: CPU feature detection and
// async-signal-safe signal flags (Swift cannot write a safe handler itself).
#ifndef CHARRNN_CSUPPORT_H
#define CHARRNN_CSUPPORT_H

/// 1 when the running CPU supports the named feature ("avx2", "avx512f", ...).
int charrnn_cpu_supports_avx2(void);
int charrnn_cpu_supports_avx512f(void);
int charrnn_cpu_supports_avx512bf16(void);

/// CPUs this process may run on (its affinity mask, e.g. under taskset or
/// an MPI launcher's binding), else the online CPUs.
int charrnn_available_cpus(void);

/// A spin-wait hint to the CPU (x86 PAUSE).
void charrnn_cpu_relax(void);

/// Installs handlers for SIGINT, SIGTERM and SIGHUP that record the signal.
/// A second signal while one is pending exits at once with 128+signal.
void charrnn_install_stop_handlers(void);
/// Lines the stop handler writes on stderr at once: `first` on the first
/// signal, `second` on the one that exits (at most 511 bytes each).
void charrnn_set_stop_messages(const char *first, const char *second);
/// The first stop signal received since install (0 when none).
int charrnn_stop_signal(void);
/// Ignore SIGPIPE so that writes to a closed pipe return EPIPE instead.
void charrnn_ignore_sigpipe(void);


/// Temporary files to delete if a signal ends the process (at most 16).
/// Registration is for files being written that must not be left behind.
void charrnn_register_temp(const char *path);
void charrnn_unregister_temp(const char *path);
/// Installs SIGINT/SIGTERM/SIGHUP handlers that delete the registered
/// temporary files, then die of the same signal (the default for tools
/// that have no progress to save).
void charrnn_install_cleanup_handlers(void);
/// Deletes the registered temporary files (for use from a stop handler path).
void charrnn_remove_temps(void);

#endif
