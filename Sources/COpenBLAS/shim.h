// OpenBLAS's CBLAS interface plus its extensions (core name, thread count).
#include <cblas.h>
