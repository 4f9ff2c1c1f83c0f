/* mp_errf: the one way the library's parsers and loaders say what went wrong. */
#include <stdarg.h>
#include <stdio.h>

#include "mp_err.h"

int
mp_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}
