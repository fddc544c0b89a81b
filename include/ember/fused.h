/* The fused-elementwise interpreter: a chain of elementwise ops of the op table run as
 * one strided loop.  A program is a list of instructions over registers of one block of
 * elements each; registers 0..n_inputs-1 hold the loop's input operands (operand 0 is
 * the output; a contiguous input is read in place) and the next ones the program's
 * numbers; each instruction computes one op of the table into one of the other
 * registers (a register may be written again once its value is dead), and register
 * `out_reg` is the result.  Driven by the iterator in iterator.c (broadcasting,
 * strides, threads), so no compiler is needed at run time.
 */
#ifndef EMBER_FUSED_H
#define EMBER_FUSED_H

#include <stdint.h>

#define EM_FUSED_MAX_REGS 32
/* bytes of one register: a block of 1024 float32 or 512 float64 elements (smaller
 * blocks spend more on each instruction's loop set-up than on its work) */
#define EM_FUSED_BLOCK_BYTES 4096

typedef struct {
    int32_t op;          /* index into em_fused_op_names */
    int32_t dst, a, b, c;
} em_fused_instr;

typedef struct {
    const em_fused_instr *code;
    int n_instr;
    int n_inputs;        /* registers 0..n_inputs-1: the input operands */
    int n_consts;        /* registers n_inputs..n_inputs+n_consts-1: these numbers */
    const double *consts;
    int out_reg;
} em_fused_program;

/* Names of the ops a program may use (the op table's float ops), and their arities. */
extern const char *const em_fused_op_names[];
extern const int em_fused_op_arity[];
extern const int em_fused_n_ops;

void em_fused_loop_float32(char **data, const intptr_t *strides, intptr_t n, void *program);
void em_fused_loop_float64(char **data, const intptr_t *strides, intptr_t n, void *program);

#endif
