/* Formatter and stderr writer for diagnostics: see log.h. */
#include "log.h"

#include <stdint.h>

#include "syscall.h"

struct out {
	char *buf;
	size_t cap, len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->cap)
		o->buf[o->len++] = c;
}

static void put_str(struct out *o, const char *s)
{
	for (s = s ? s : "(null)"; *s; s++)
		put(o, *s);
}

static void put_uint(struct out *o, uint64_t v, unsigned base)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n)
		put(o, tmp[--n]);
}

static void put_int(struct out *o, int64_t v)
{
	if (v < 0) {
		put(o, '-');
		put_uint(o, -(uint64_t)v, 10);
	} else {
		put_uint(o, (uint64_t)v, 10);
	}
}

/* Reads one conversion's argument at the width the modifiers said. */
static uint64_t arg_u(va_list *ap, int lng)
{
	return lng ? va_arg(*ap, uint64_t) : va_arg(*ap, unsigned);
}

static int64_t arg_i(va_list *ap, int lng)
{
	return lng ? va_arg(*ap, int64_t) : va_arg(*ap, int);
}

static const char *convert(struct out *o, const char *f, va_list *ap)
{
	int lng = 0;
	while (*f == 'l' || *f == 'z')
		lng = 1, f++;
	switch (*f) {
	case 's': put_str(o, va_arg(*ap, const char *)); break;
	case 'c': put(o, (char)va_arg(*ap, int)); break;
	case 'd': case 'i': put_int(o, arg_i(ap, lng)); break;
	case 'u': put_uint(o, arg_u(ap, lng), 10); break;
	case 'x': put_uint(o, arg_u(ap, lng), 16); break;
	case 'p': put_str(o, "0x"); put_uint(o, (uintptr_t)va_arg(*ap, void *), 16); break;
	case '%': put(o, '%'); break;
	default: put(o, '%'); if (*f) put(o, *f); else return f;
	}
	return f + 1;
}

size_t am_vfmt(char *buf, size_t cap, const char *fmt, va_list ap)
{
	struct out o = {buf, cap, 0};
	va_list cp;
	va_copy(cp, ap);
	while (*fmt) {
		if (*fmt != '%')
			put(&o, *fmt++);
		else
			fmt = convert(&o, fmt + 1, &cp);
	}
	va_end(cp);
	if (cap)
		buf[o.len] = '\0';
	return o.len;
}

size_t am_fmt(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t n = am_vfmt(buf, cap, fmt, ap);
	va_end(ap);
	return n;
}

void am_log(const char *fmt, ...)
{
	char line[512] = "allocmap: ";
	va_list ap;
	va_start(ap, fmt);
	size_t n = 10 + am_vfmt(line + 10, sizeof line - 11, fmt, ap);
	va_end(ap);
	line[n++] = '\n';
	am_sys_write_all(2, line, n);
}
