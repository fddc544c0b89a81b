/* The fused-elementwise interpreter: a chain of elementwise ops of the op table run as
 * one strided loop.  A program is a list of instructions over registers of one block of
 * elements each; registers 0..n_inputs-1 are loaded from the loop's input operands
 * (operand 0 is the output) and the next ones filled with the program's numbers, each instruction computes one op of the table into its
 * destination register, and register `out_reg` is stored.  Driven by the iterator in
 * iterator.c (broadcasting, strides, threads), so no compiler is needed at run time.
 */
#ifndef EMBER_FUSED_H
#define EMBER_FUSED_H

#include <stdint.h>

#define EM_FUSED_MAX_REGS 32
#define EM_FUSED_BLOCK 128

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
