/*
 * Lumen operators: which instruction set the kernels may use
 *
 * Copyright (c) 2026 The Lumen authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The answer is recomputed on every call rather than cached: reading the
 * CPU model that libgcc filled in at start-up costs a few loads, and a
 * cache would be global mutable state shared by the engine threads.
 */
#include "ops-internal.h"

#ifdef __x86_64__
#include <cpuid.h>
#endif

/*
 * F16C (half <-> float conversion) is asked of CPUID directly, since
 * clang's __builtin_cpu_supports() does not know the name; and since CPUID
 * traps to the hypervisor in a virtual machine (microseconds), the answer
 * is bound once, when the program is loaded, through an ifunc: no state
 * of ours, and each call costs one indirect jump.
 */
#if defined(__x86_64__) && defined(__ELF__)
static bool f16c_present(void)
{
    return true;
}

static bool f16c_absent(void)
{
    return false;
}

/*
 * Runs while the dynamic linker relocates the program, before anything is
 * set up: only inline instructions, and no sanitizer instrumentation
 * (whose shadow memory does not exist yet).  F16C's VEX encoding needs the
 * OS to save the YMM state: OSXSAVE, then XCR0 bits 1 (SSE) and 2 (AVX).
 */
__attribute__((used, no_sanitize("address", "undefined")))
static bool (*resolve_have_f16c(void))(void)
{
    const unsigned int need = bit_OSXSAVE | bit_AVX | bit_F16C;
    unsigned int eax, ebx, ecx, edx, xcr0, xcr0_hi;

    __cpuid(1, eax, ebx, ecx, edx);
    if ((ecx & need) != need) {
        return f16c_absent;
    }
    __asm__("xgetbv" : "=a"(xcr0), "=d"(xcr0_hi) : "c"(0));
    return (xcr0 & 6) == 6 ? f16c_present : f16c_absent;
}

bool ops_have_f16c(void) __attribute__((ifunc("resolve_have_f16c")));
#else
bool ops_have_f16c(void)
{
    return false;
}
#endif

static bool have_avx2(void)
{
#ifdef __x86_64__
    /* These checks include the OS's support for the YMM/ZMM state. */
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
           ops_have_f16c();
#else
    return false;
#endif
}

static bool have_avx512(void)
{
#ifdef __x86_64__
    return have_avx2() && __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl");
#else
    return false;
#endif
}

LumenIsa lumen_ops_best_isa(void)
{
    if (have_avx512()) {
        return LUMEN_ISA_AVX512;
    }
    if (have_avx2()) {
        return LUMEN_ISA_AVX2;
    }
    return LUMEN_ISA_GENERIC;
}

const char *lumen_isa_name(LumenIsa isa)
{
    switch (isa) {
    case LUMEN_ISA_AUTO:
        return "auto";
    case LUMEN_ISA_GENERIC:
        return "generic";
    case LUMEN_ISA_AVX2:
        return "avx2";
    case LUMEN_ISA_AVX512:
        return "avx512";
    }
    return "?";
}

int ops_resolve_isa(LumenIsa want, LumenIsa *isa)
{
    switch (want) {
    case LUMEN_ISA_AUTO:
        *isa = lumen_ops_best_isa();
        return 0;
    case LUMEN_ISA_GENERIC:
        break;
    case LUMEN_ISA_AVX2:
        if (!have_avx2()) {
            return -EOPNOTSUPP;
        }
        break;
    case LUMEN_ISA_AVX512:
        if (!have_avx512()) {
            return -EOPNOTSUPP;
        }
        break;
    default:
        return -EINVAL;
    }
    *isa = want;
    return 0;
}
