// MPI for data-parallel training, loaded at run time with dlopen so that
// the ordinary build and the single-process tools never need MPI. The
// handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...) are Open MPI's: its
// ABI makes them the addresses of exported globals, which dlsym finds.
#ifndef CHARRNN_MPISHIM_H
#define CHARRNN_MPISHIM_H

#include <stddef.h>

/// Loads libmpi from `path` (NULL: libmpi.so.40, then libmpi.so) and
/// resolves what training needs. 0 on success; otherwise -1 with a reason
/// in `error`.
int charrnn_mpi_load(const char *path, char *error, size_t error_size);
/// MPI_Init_thread (funneled) then rank and size of MPI_COMM_WORLD, with
/// errors returned rather than aborting. 0 on success.
int charrnn_mpi_init(int *rank, int *size);
/// In-place sums over all ranks. 0 on success (an MPI error code otherwise).
int charrnn_mpi_allreduce_float(float *buffer, long count);
int charrnn_mpi_allreduce_double(double *buffer, int count);
/// Rank `root`'s bytes to every rank.
int charrnn_mpi_bcast(void *buffer, int bytes, int root);
/// The text of an MPI error code.
void charrnn_mpi_error_string(int code, char *text, size_t size);
void charrnn_mpi_abort(int code);
int charrnn_mpi_finalize(void);

#endif
