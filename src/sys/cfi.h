/* DWARF call-frame information of a loaded object, read in place: the
 * rule of one pc, as far as the unwinder (unwind.h) needs it on x86-64.
 *
 * Finds the FDE through .eh_frame_hdr's binary-search table (the encoding
 * every linker writes: 4-byte entries relative to the header), then runs
 * the CIE's and the FDE's instructions up to pc (DWARF 4/5 section 6.4,
 * with the .eh_frame augmentations of the LSB: z, R, P, L, S). Only
 * rules of the x86-64 shape are kept: CFA = rsp or rbp + offset, rbp
 * saved at CFA + offset or unchanged, the return address at CFA - 8 or
 * undefined. Anything else answers AM_CFI_FP (use frame pointers).
 * Allocates nothing, takes no lock; reads only the object's mapped
 * .eh_frame_hdr and .eh_frame.
 */
#ifndef AM_SYS_CFI_H
#define AM_SYS_CFI_H

#include <stdint.h>

enum am_cfi_kind {
	AM_CFI_FP = 0,  /* no usable rule: follow frame pointers */
	AM_CFI_RSP = 1, /* CFA = rsp + cfa_off */
	AM_CFI_RBP = 2, /* CFA = rbp + cfa_off */
	AM_CFI_END = 3  /* the return address is undefined: the outermost frame */
};

struct am_cfi_rule {
	int kind;        /* enum am_cfi_kind */
	int32_t cfa_off;
	int32_t bp_off;  /* rbp saved at CFA + bp_off; 0: rbp unchanged */
};

/* The rule at pc, in the object whose .eh_frame_hdr is mapped at hdr. */
void am_cfi_rule(const uint8_t *hdr, uintptr_t pc, struct am_cfi_rule *out);

#endif
