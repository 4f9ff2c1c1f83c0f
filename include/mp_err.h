/* mp_err - an error message for the caller, in the buffer it gave. */
#ifndef MP_ERR_H
#define MP_ERR_H

#include <stddef.h>

/* Format into err (errlen bytes, cut to fit) and return -1, so that `return mp_errf(...)` fails. */
int mp_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
