// CLBlast's C API (the tuned OpenCL BLAS): CLBlastSgemm, CLBlastSgemv.
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <clblast_c.h>
