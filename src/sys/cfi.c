/* DWARF CFI of a loaded object: see cfi.h. The interpreter keeps the
 * CFA rule, rbp's rule and whether the return address is defined, with a
 * small stack for remember_state/restore_state; an opcode it does not
 * model for those three registers marks the row unusable (AM_CFI_FP).
 */
#include "cfi.h"

#include <stddef.h>

#define REG_RBP 6
#define REG_RSP 7
#define REG_RA 16
#define STATES 8

/* Pointer encodings (LSB, "DWARF Exception Header Encoding"). */
#define PE_OMIT 0xff
#define PE_ABS 0x00
#define PE_ULEB 0x01
#define PE_U2 0x02
#define PE_U4 0x03
#define PE_U8 0x04
#define PE_SLEB 0x09
#define PE_S2 0x0a
#define PE_S4 0x0b
#define PE_S8 0x0c
#define PE_PCREL 0x10
#define PE_DATAREL 0x30
#define PE_INDIRECT 0x80

struct cur {
	const uint8_t *p, *end;
};

struct state {
	int reg, bad, ra_undef;
	int64_t off, bp_off;
};

struct cie {
	uint64_t code_align;
	int64_t data_align;
	int ra_reg, fde_enc, has_z;
	struct cur init; /* initial instructions */
};

static uint64_t uleb(struct cur *c)
{
	uint64_t v = 0;
	for (unsigned sh = 0; c->p < c->end; sh += 7) {
		uint8_t b = *c->p++;
		if (sh < 64)
			v |= (uint64_t)(b & 0x7f) << sh;
		if (!(b & 0x80))
			break;
	}
	return v;
}

static int64_t sleb(struct cur *c)
{
	uint64_t v = 0;
	unsigned sh = 0;
	uint8_t b = 0;
	while (c->p < c->end) {
		b = *c->p++;
		if (sh < 64)
			v |= (uint64_t)(b & 0x7f) << sh;
		sh += 7;
		if (!(b & 0x80))
			break;
	}
	if (sh < 64 && (b & 0x40))
		v |= ~(uint64_t)0 << sh;
	return (int64_t)v;
}

static uint64_t fixed(struct cur *c, unsigned n)
{
	uint64_t v = 0;
	if ((size_t)(c->end - c->p) < n) {
		c->p = c->end;
		return 0;
	}
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)c->p[i] << (8 * i);
	c->p += n;
	return v;
}

/* A value in encoding enc (datarel relative to `data`); 0 if unknown. */
static uintptr_t encoded(struct cur *c, int enc, uintptr_t data)
{
	uintptr_t at = (uintptr_t)c->p, v;
	if (enc == PE_OMIT)
		return 0;
	switch (enc & 0x0f) {
	case PE_ABS: case PE_U8: case PE_S8: v = (uintptr_t)fixed(c, 8); break;
	case PE_ULEB: v = (uintptr_t)uleb(c); break;
	case PE_SLEB: v = (uintptr_t)sleb(c); break;
	case PE_U2: v = (uintptr_t)fixed(c, 2); break;
	case PE_S2: v = (uintptr_t)(int16_t)fixed(c, 2); break;
	case PE_U4: v = (uintptr_t)fixed(c, 4); break;
	case PE_S4: v = (uintptr_t)(int32_t)fixed(c, 4); break;
	default: c->p = c->end; return 0;
	}
	if ((enc & 0x70) == PE_PCREL)
		v += at;
	else if ((enc & 0x70) == PE_DATAREL)
		v += data;
	if (enc & PE_INDIRECT)
		v = *(const uintptr_t *)v;
	return v;
}

/* The record at p: its body in *c (after the length word); 0 on a
 * 64-bit or empty record (not written by x86-64 linkers for .eh_frame). */
static int record(const uint8_t *p, struct cur *c)
{
	uint32_t len = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	if (len == 0 || len == 0xffffffffu)
		return 0;
	c->p = p + 4;
	c->end = p + 4 + len;
	return 1;
}

static int parse_aug(struct cur *c, const char *aug, struct cie *ci)
{
	struct cur body = *c;
	if (ci->has_z) {
		uint64_t n = uleb(c);
		body = (struct cur){c->p, c->p + n};
		c->p += n;
	}
	for (const char *a = aug + ci->has_z; *a; a++) {
		if (*a == 'R')
			ci->fde_enc = body.p < body.end ? *body.p++ : PE_OMIT;
		else if (*a == 'L')
			body.p++;
		else if (*a == 'P') {
			int enc = body.p < body.end ? *body.p++ : PE_OMIT;
			encoded(&body, enc & 0x7f, 0); /* the personality: skipped, never read */
		} else if (*a != 'S' && *a != 'B')
			return -1;
	}
	return 0;
}

static int parse_cie(const uint8_t *p, struct cie *ci)
{
	struct cur c;
	if (!record(p, &c) || fixed(&c, 4) != 0)
		return -1;
	int version = c.p < c.end ? *c.p++ : 0;
	const char *aug = (const char *)c.p;
	while (c.p < c.end && *c.p)
		c.p++;
	c.p++;
	if (version != 1 && version != 3 && version != 4)
		return -1;
	if (version == 4)
		c.p += 2; /* address size, segment selector size */
	ci->code_align = uleb(&c);
	ci->data_align = sleb(&c);
	ci->ra_reg = version == 1 ? (c.p < c.end ? *c.p++ : 0) : (int)uleb(&c);
	ci->has_z = aug[0] == 'z';
	ci->fde_enc = PE_ABS;
	if ((!ci->has_z && aug[0]) || parse_aug(&c, aug, ci) != 0)
		return -1;
	ci->init = c;
	return 0;
}

static void set_offset(struct state *s, uint64_t reg, int64_t off)
{
	if (reg == REG_RBP)
		s->bp_off = off;
	else if (reg == REG_RA)
		s->bad |= off != -8;
}

static void set_same(struct state *s, uint64_t reg, const struct state *init)
{
	if (reg == REG_RBP)
		s->bp_off = init ? init->bp_off : 0;
	else if (reg == REG_RA)
		s->ra_undef = init ? init->ra_undef : 0;
}

struct machine {
	struct state s, init, stack[STATES];
	int depth;
	uintptr_t loc, target;
	const struct cie *ci;
};

/* One opcode with an operand in its low six bits. */
static void primary(struct machine *m, uint8_t op, struct cur *c)
{
	uint8_t lo = op & 0x3f;
	if ((op & 0xc0) == 0x40)
		m->loc += lo * m->ci->code_align;
	else if ((op & 0xc0) == 0x80)
		set_offset(&m->s, lo, (int64_t)uleb(c) * m->ci->data_align);
	else
		set_same(&m->s, lo, &m->init);
}

static void def_cfa(struct machine *m, uint64_t reg, int64_t off)
{
	m->s.reg = (int)reg;
	m->s.off = off;
}

/* The extended opcodes; 0 to stop (the row for target is complete). */
static int extended(struct machine *m, uint8_t op, struct cur *c)
{
	uint64_t r;
	switch (op) {
	case 0x00: break;
	case 0x01: m->loc = encoded(c, m->ci->fde_enc, 0); break;
	case 0x02: m->loc += fixed(c, 1) * m->ci->code_align; break;
	case 0x03: m->loc += fixed(c, 2) * m->ci->code_align; break;
	case 0x04: m->loc += fixed(c, 4) * m->ci->code_align; break;
	case 0x05: r = uleb(c); set_offset(&m->s, r, (int64_t)uleb(c) * m->ci->data_align); break;
	case 0x06: set_same(&m->s, uleb(c), &m->init); break;
	case 0x07: r = uleb(c); if (r == REG_RA) m->s.ra_undef = 1; else if (r == REG_RBP) m->s.bad = 1; break;
	case 0x08: set_same(&m->s, uleb(c), NULL); break;
	case 0x09: r = uleb(c); uleb(c); m->s.bad |= r == REG_RBP || r == REG_RA; break;
	case 0x0a: if (m->depth < STATES) m->stack[m->depth] = m->s; m->depth++; break;
	case 0x0b: if (m->depth > 0 && --m->depth < STATES) m->s = m->stack[m->depth]; break;
	case 0x0c: r = uleb(c); def_cfa(m, r, (int64_t)uleb(c)); break;
	case 0x0d: m->s.reg = (int)uleb(c); break;
	case 0x0e: m->s.off = (int64_t)uleb(c); break;
	case 0x0f: m->s.reg = -1; c->p += uleb(c); break;
	case 0x10: case 0x16: r = uleb(c); c->p += uleb(c); m->s.bad |= r == REG_RBP || r == REG_RA; break;
	case 0x11: r = uleb(c); set_offset(&m->s, r, sleb(c) * m->ci->data_align); break;
	case 0x12: r = uleb(c); def_cfa(m, r, sleb(c) * m->ci->data_align); break;
	case 0x13: m->s.off = sleb(c) * m->ci->data_align; break;
	case 0x14: case 0x15: r = uleb(c); if (op == 0x14) uleb(c); else sleb(c); m->s.bad |= r == REG_RBP || r == REG_RA; break;
	case 0x2e: uleb(c); break;
	case 0x2f: r = uleb(c); set_offset(&m->s, r, -(int64_t)uleb(c) * m->ci->data_align); break;
	default: m->s.bad = 1; return 0;
	}
	return 1;
}

/* Runs c's instructions while the location has not passed target. */
static void run(struct machine *m, struct cur c)
{
	while (c.p < c.end && !m->s.bad) {
		uint8_t op = *c.p++;
		if (op & 0xc0)
			primary(m, op, &c);
		else if (!extended(m, op, &c))
			return;
		if (m->loc > m->target)
			return;
	}
}

static void to_rule(const struct state *s, struct am_cfi_rule *out)
{
	out->cfa_off = (int32_t)s->off;
	out->bp_off = (int32_t)s->bp_off;
	if (s->bad || (s->reg != REG_RSP && s->reg != REG_RBP) || s->off != (int32_t)s->off)
		out->kind = AM_CFI_FP;
	else if (s->ra_undef)
		out->kind = AM_CFI_END;
	else
		out->kind = s->reg == REG_RSP ? AM_CFI_RSP : AM_CFI_RBP;
}

/* The FDE covering pc, from the header's sorted table; NULL if none. */
static const uint8_t *find_fde(const uint8_t *hdr, uintptr_t pc)
{
	if (hdr[0] != 1 || hdr[3] != (PE_DATAREL | PE_S4))
		return NULL;
	struct cur c = {hdr + 4, hdr + 4 + 16};
	encoded(&c, hdr[1], (uintptr_t)hdr); /* eh_frame_ptr */
	size_t n = (size_t)encoded(&c, hdr[2], (uintptr_t)hdr), lo = 0, hi = n;
	const int32_t *t = (const int32_t *)c.p;
	if (n == 0 || pc < (uintptr_t)hdr + t[0])
		return NULL;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if ((uintptr_t)hdr + t[2 * mid] <= pc)
			lo = mid;
		else
			hi = mid;
	}
	return hdr + t[2 * lo + 1];
}

void am_cfi_rule(const uint8_t *hdr, uintptr_t pc, struct am_cfi_rule *out)
{
	struct cur c;
	struct cie ci;
	out->kind = AM_CFI_FP;
	const uint8_t *fde = find_fde(hdr, pc);
	if (!fde || !record(fde, &c))
		return;
	const uint8_t *at = c.p;
	uint32_t id = (uint32_t)fixed(&c, 4);
	if (id == 0 || parse_cie(at - id, &ci) != 0 || ci.ra_reg != REG_RA)
		return; /* a CIE, not an FDE: the table is not what it says */
	uintptr_t begin = encoded(&c, ci.fde_enc, 0), range = encoded(&c, ci.fde_enc & 0x0f, 0);
	if (pc < begin || pc - begin >= range)
		return;
	if (ci.has_z)
		c.p += uleb(&c);
	/* the CIE's instructions hold for the whole FDE: no target */
	struct machine m = {.s = {.reg = REG_RSP, .off = 8}, .loc = begin, .target = ~(uintptr_t)0, .ci = &ci};
	run(&m, ci.init);
	m.init = m.s;
	m.loc = begin;
	m.target = pc;
	run(&m, c);
	to_rule(&m.s, out);
}
