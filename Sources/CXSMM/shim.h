#include <libxsmm.h>
