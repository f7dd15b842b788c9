// Small C helpers: CPU features and signal flags.
#define _GNU_SOURCE
#include "csupport.h"
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

int charrnn_cpu_supports_avx2(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

int charrnn_cpu_supports_avx512f(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")
        && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
#else
    return 0;
#endif
}

int charrnn_cpu_supports_avx512bf16(void) {
#if (defined(__x86_64__) || defined(__i386__)) && defined(__clang__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16");
#else
    return 0;
#endif
}

static volatile sig_atomic_t stop_signal = 0;
static char stop_first[512], stop_second[512];

static void say(const char *text) {
    size_t n = strlen(text);
    while (n > 0) {
        ssize_t w = write(2, text, n);
        if (w <= 0) return;
        text += w;
        n -= (size_t)w;
    }
}

static void on_stop(int sig) {
    if (stop_signal != 0) {
        // Second signal: leave at once. _exit is async-signal-safe; files are
        // only ever renamed into place complete, so nothing is corrupted.
        say(stop_second);
        charrnn_remove_temps();
        _exit(128 + sig);
    }
    stop_signal = sig;
    say(stop_first);
}

void charrnn_set_stop_messages(const char *first, const char *second) {
    strncpy(stop_first, first, sizeof stop_first - 1);
    strncpy(stop_second, second, sizeof stop_second - 1);
}

void charrnn_install_stop_handlers(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

int charrnn_stop_signal(void) { return stop_signal; }

void charrnn_ignore_sigpipe(void) { signal(SIGPIPE, SIG_IGN); }

#include <stdlib.h>

#define MAX_TEMPS 16
#define MAX_PATH_LEN 4096
static char temp_paths[MAX_TEMPS][MAX_PATH_LEN];
static volatile sig_atomic_t temp_used[MAX_TEMPS];

void charrnn_register_temp(const char *path) {
    for (int i = 0; i < MAX_TEMPS; i++) {
        if (!temp_used[i]) {
            strncpy(temp_paths[i], path, MAX_PATH_LEN - 1);
            temp_paths[i][MAX_PATH_LEN - 1] = 0;
            temp_used[i] = 1;
            return;
        }
    }
}

void charrnn_unregister_temp(const char *path) {
    for (int i = 0; i < MAX_TEMPS; i++) {
        if (temp_used[i] && strncmp(temp_paths[i], path, MAX_PATH_LEN) == 0) {
            temp_used[i] = 0;
            return;
        }
    }
}

void charrnn_remove_temps(void) {
    for (int i = 0; i < MAX_TEMPS; i++) {
        if (temp_used[i]) {
            unlink(temp_paths[i]);   // async-signal-safe
            temp_used[i] = 0;
        }
    }
}

static void on_cleanup(int sig) {
    charrnn_remove_temps();
    signal(sig, SIG_DFL);
    raise(sig);
}

void charrnn_install_cleanup_handlers(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_cleanup;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

int charrnn_available_cpus(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? (int)online : 1;
}

void charrnn_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}
