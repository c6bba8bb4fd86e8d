// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Lumen accelerator: the one place the tracepoints of lumen_trace.h are
 * instantiated.
 */

#define CREATE_TRACE_POINTS
#include "lumen_trace.h"
