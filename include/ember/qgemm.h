/* ember's int8 GEMM: uint8 activations times int8 weights, summed exactly in int32.
 *
 * The weight W (n x k, one row per output channel) is packed once
 * (em_qgemm_pack) into panels of EM_QGEMM_NR output channels, k in groups of 4
 * bytes (the operand layout of VNNI's vpdpbusd), zero-padded; the pack also
 * keeps each channel's sum of weights, which the epilogues use to subtract the
 * activations' zero point: sum_p (a[i,p] - za) w[j,p] = acc[i,j] - za colsum[j].
 *
 * The activation A (m x k) is read in place: rows of k uint8 values at a pitch
 * of lda bytes.  The micro-kernel (AVX-512 VNNI, AVX2 or portable C) is chosen
 * at run time from what the CPU supports; every kernel computes the exact sums,
 * so results do not depend on the kernel.  Rows and column blocks of C are
 * shared out over ember's OpenMP threads above a grain size.
 */
#ifndef EMBER_QGEMM_H
#define EMBER_QGEMM_H

#include <stdint.h>

#define EM_QGEMM_NR 16
/* The largest k whose sums cannot overflow int32: 255 * 128 * k < 2^31. */
#define EM_QGEMM_MAX_K 65793

typedef struct em_qgemm_packed em_qgemm_packed;

/* W (n x k, w[j*w_rs + p*w_cs], k <= EM_QGEMM_MAX_K) packed; NULL when out of memory. */
em_qgemm_packed *em_qgemm_pack(intptr_t n, intptr_t k, const int8_t *w, intptr_t w_rs,
                               intptr_t w_cs);
void em_qgemm_packed_free(em_qgemm_packed *packed);
/* sum_p w[j, p] for each output channel j (n values) */
const int32_t *em_qgemm_col_sums(const em_qgemm_packed *packed);

/* c[i*ldc + j] = sum_p a[i*lda + p] * w[j, p], exact int32. */
void em_qgemm_s32(intptr_t m, const uint8_t *a, intptr_t lda, const em_qgemm_packed *w,
                  int32_t *c, intptr_t ldc);

/* The dequantizing epilogue: y = a_scale * w_scale[j] * (acc - a_zero * colsum[j])
 * (+ bias[j] when bias is not NULL).  With out_u8 == NULL it stores
 * out_f32[i*ldo + j] = y; otherwise it requantizes,
 * out_u8[i*ldo + j] = clamp(nearbyint(y / out_scale) + out_zero, lo, 255)
 * with lo = out_zero when relu (ReLU fused: real zero is out_zero), 0 otherwise. */
typedef struct {
    float a_scale;
    int32_t a_zero;
    const float *w_scale;
    const float *bias;
    float *out_f32;
    uint8_t *out_u8;
    float out_scale;
    int32_t out_zero;
    int relu;
    intptr_t ldo;
} em_qgemm_epilogue;

void em_qgemm(intptr_t m, const uint8_t *a, intptr_t lda, const em_qgemm_packed *w,
              const em_qgemm_epilogue *ep);

/* Per-tensor asymmetric uint8 parameters for values in [lo, hi] (the range is
 * widened to hold 0), as PyTorch's ChooseQuantizationParams over [0, 255]. */
void em_qgemm_choose_params(float lo, float hi, float *scale, int32_t *zero);

/* The dynamic linear layer: x (m x k floats at pitch ldx) is quantized to uint8
 * with parameters chosen from its own range, multiplied by W and dequantized
 * (+ bias) into out (pitch ldo).  Returns -1 when out of memory. */
int em_qlinear_dynamic(intptr_t m, const float *x, intptr_t ldx, const em_qgemm_packed *w,
                       const float *w_scale, const float *bias, float *out, intptr_t ldo);

/* Name of the micro-kernel in use ("avx512_vnni", "avx2" or "generic"). */
const char *em_qgemm_kernel_name(void);
/* Use the named micro-kernel from now on (tests); -1 if this CPU cannot run it. */
int em_qgemm_set_kernel(const char *name);

#endif
