/* Fused recurrent cells: the gate nonlinearities and state update of one time
 * step of an LSTM, a GRU or an Elman RNN, forward and backward.
 *
 * Every kernel works on `n` rows (the batch entries active at this step) of
 * `H` hidden units.  Gate blocks are laid out as PyTorch lays out its weights:
 * LSTM (i, f, g, o), GRU (r, z, n).  `gx` holds the input projection of the
 * step (bias_ih included), `gh` the recurrent product h @ W_hh^T (without
 * bias); `bias_hh` may be NULL.  Forward kernels write what backward needs
 * into the `save_*` buffers when those are non-NULL (training); backward
 * kernels write pre-activation gate gradients.  All buffers are contiguous
 * row-major blocks of the sizes given with each argument.
 */
#ifndef EMBER_RNN_H
#define EMBER_RNN_H

#include <stdint.h>

/* Elman cell: h = act(gx + gh + b) with act tanh (relu = 0) or relu (relu = 1).
 * h: n x H. */
void em_rnn_cell_fwd_float32(int64_t n, int64_t H, int relu, const float *gx, const float *gh,
                             const float *bias_hh, float *h);
void em_rnn_cell_fwd_float64(int64_t n, int64_t H, int relu, const double *gx, const double *gh,
                             const double *bias_hh, double *h);
/* dpre = dh * act'(.) from the cell's output h (n x H each). */
void em_rnn_cell_bwd_float32(int64_t n, int64_t H, int relu, const float *dh, const float *h,
                             float *dpre);
void em_rnn_cell_bwd_float64(int64_t n, int64_t H, int relu, const double *dh, const double *h,
                             double *dpre);

/* LSTM cell.  c: n x H, the cell state, updated in place; h: n x H, o * tanh(c).
 * Saves (optional): act n x 4H (gates after their nonlinearity), cprev n x H,
 * tanhc n x H. */
void em_lstm_cell_fwd_float32(int64_t n, int64_t H, const float *gx, const float *gh,
                              const float *bias_hh, float *c, float *h,
                              float *save_act, float *save_cprev, float *save_tanhc);
void em_lstm_cell_fwd_float64(int64_t n, int64_t H, const double *gx, const double *gh,
                              const double *bias_hh, double *c, double *h,
                              double *save_act, double *save_cprev, double *save_tanhc);
/* dh: n x H (gradient of this step's h); dc: n x H, gradient of this step's c on
 * entry, of the previous step's c on return; dgates: n x 4H. */
void em_lstm_cell_bwd_float32(int64_t n, int64_t H, const float *dh, float *dc,
                              const float *act, const float *cprev, const float *tanhc,
                              float *dgates);
void em_lstm_cell_bwd_float64(int64_t n, int64_t H, const double *dh, double *dc,
                              const double *act, const double *cprev, const double *tanhc,
                              double *dgates);

/* GRU cell.  h: n x H, the hidden state, updated in place.  Saves (optional):
 * act n x 3H (r, z, n), ghn n x H (the n block of gh + bias_hh). */
void em_gru_cell_fwd_float32(int64_t n, int64_t H, const float *gx, const float *gh,
                             const float *bias_hh, float *h, float *save_act, float *save_ghn);
void em_gru_cell_fwd_float64(int64_t n, int64_t H, const double *gx, const double *gh,
                             const double *bias_hh, double *h, double *save_act,
                             double *save_ghn);
/* dh: n x H, gradient of this step's h; hprev: n x H; dgx, dgh: n x 3H, gradients of
 * gx and of gh + bias_hh; dhprev: n x H, the direct part of the previous h's gradient
 * (dh * z; the recurrent product's part is added by the caller). */
void em_gru_cell_bwd_float32(int64_t n, int64_t H, const float *dh, const float *act,
                             const float *ghn, const float *hprev, float *dgx, float *dgh,
                             float *dhprev);
void em_gru_cell_bwd_float64(int64_t n, int64_t H, const double *dh, const double *act,
                             const double *ghn, const double *hprev, double *dgx, double *dgh,
                             double *dhprev);

#endif
