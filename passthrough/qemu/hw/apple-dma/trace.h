#include "trace/trace-hw_apple_dma.h"
