// MPI through dlopen (see include/mpishim.h). Only the few calls training
// uses are resolved; every call checks its return code (MPI_ERRORS_RETURN).
#include "mpishim.h"
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

typedef void *Handle;   // MPI_Comm, MPI_Datatype, MPI_Op, MPI_Errhandler in Open MPI: pointers
static int (*p_init_thread)(int *, char ***, int, int *);
static int (*p_initialized)(int *);
static int (*p_comm_rank)(Handle, int *);
static int (*p_comm_size)(Handle, int *);
static int (*p_allreduce)(const void *, void *, int, Handle, Handle, Handle);
static int (*p_bcast)(void *, int, Handle, int, Handle);
static int (*p_error_string)(int, char *, int *);
static int (*p_comm_set_errhandler)(Handle, Handle);
static int (*p_abort)(Handle, int);
static int (*p_finalize)(void);
static Handle comm_world, type_float, type_double, type_byte, op_sum, errors_return;

#define MPI_IN_PLACE_OMPI ((void *)1)   // Open MPI's MPI_IN_PLACE
#define MPI_THREAD_FUNNELED_OMPI 1

int charrnn_mpi_load(const char *path, char *error, size_t error_size) {
    const char *names[] = {path, "libmpi.so.40", "libmpi.so"};
    void *lib = NULL;
    const char *why = "";
    for (int i = path ? 0 : 1; i < 3 && !lib; i++) {
        // RTLD_GLOBAL: Open MPI's own plugins resolve libmpi's symbols.
        lib = dlopen(names[i], RTLD_NOW | RTLD_GLOBAL);
        if (!lib) why = dlerror();
        if (path) break;   // an explicit library: no fallback
    }
    if (!lib) {
        snprintf(error, error_size, "%s", why ? why : "dlopen failed");
        return -1;
    }
#define SYM(var, name) \
    do { \
        *(void **)(&var) = dlsym(lib, name); \
        if (!var) { snprintf(error, error_size, "%s has no %s (charrnn needs Open MPI)", path ? path : "libmpi", name); return -1; } \
    } while (0)
    SYM(p_init_thread, "MPI_Init_thread");
    SYM(p_initialized, "MPI_Initialized");
    SYM(p_comm_rank, "MPI_Comm_rank");
    SYM(p_comm_size, "MPI_Comm_size");
    SYM(p_allreduce, "MPI_Allreduce");
    SYM(p_bcast, "MPI_Bcast");
    SYM(p_error_string, "MPI_Error_string");
    SYM(p_comm_set_errhandler, "MPI_Comm_set_errhandler");
    SYM(p_abort, "MPI_Abort");
    SYM(p_finalize, "MPI_Finalize");
    SYM(comm_world, "ompi_mpi_comm_world");
    SYM(type_float, "ompi_mpi_float");
    SYM(type_double, "ompi_mpi_double");
    SYM(type_byte, "ompi_mpi_byte");
    SYM(op_sum, "ompi_mpi_op_sum");
    SYM(errors_return, "ompi_mpi_errors_return");
#undef SYM
    return 0;
}

int charrnn_mpi_init(int *rank, int *size) {
    int provided = 0, done = 0, rc;
    if ((rc = p_initialized(&done)) != 0) return rc;
    if (!done && (rc = p_init_thread(NULL, NULL, MPI_THREAD_FUNNELED_OMPI, &provided)) != 0) return rc;
    if ((rc = p_comm_set_errhandler(comm_world, errors_return)) != 0) return rc;
    if ((rc = p_comm_rank(comm_world, rank)) != 0) return rc;
    return p_comm_size(comm_world, size);
}

int charrnn_mpi_allreduce_float(float *buffer, long count) {
    // MPI counts are ints: large models go in pieces.
    while (count > 0) {
        int n = count > INT_MAX / 2 ? INT_MAX / 2 : (int)count;
        int rc = p_allreduce(MPI_IN_PLACE_OMPI, buffer, n, type_float, op_sum, comm_world);
        if (rc != 0) return rc;
        buffer += n;
        count -= n;
    }
    return 0;
}

int charrnn_mpi_allreduce_double(double *buffer, int count) {
    return p_allreduce(MPI_IN_PLACE_OMPI, buffer, count, type_double, op_sum, comm_world);
}

int charrnn_mpi_bcast(void *buffer, int bytes, int root) {
    return p_bcast(buffer, bytes, type_byte, root, comm_world);
}

void charrnn_mpi_error_string(int code, char *text, size_t size) {
    char buf[512];   // MPI_MAX_ERROR_STRING is 256 in Open MPI
    int len = 0;
    if (p_error_string && p_error_string(code, buf, &len) == 0) {
        snprintf(text, size, "%.*s", len, buf);
    } else {
        snprintf(text, size, "MPI error %d", code);
    }
}

void charrnn_mpi_abort(int code) {
    if (p_abort) p_abort(comm_world, code);
}

int charrnn_mpi_finalize(void) { return p_finalize ? p_finalize() : 0; }
