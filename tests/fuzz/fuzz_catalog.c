/*
 * The pages' text catalog parser: any bytes give a catalog or a
 * line-numbered error; a catalog it accepts has sorted, unique keys, finds
 * each of them, and matches and overlays itself.
 */
#include <stdint.h>
#include <string.h>

#include "../../server/extern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ui_catalog *c = NULL, *d = NULL;
	char err[256];
	size_t i;

	if (ui_catalog_parse(&c, (const char *)data, size, err, sizeof err) != 0) {
		if (c != NULL || strncmp(err, "line ", 5) != 0)
			__builtin_trap();
		return 0;
	}
	for (i = 0; i < ui_catalog_size(c); i++) {
		if (i > 0 && strcmp(ui_catalog_key(c, i - 1), ui_catalog_key(c, i)) >= 0)
			__builtin_trap();
		if (ui_catalog_get(c, ui_catalog_key(c, i)) != ui_catalog_text(c, i) ||
		    *ui_catalog_text(c, i) == '\0')
			__builtin_trap();
	}
	if (ui_catalog_match(c, c, err, sizeof err) != 0)
		__builtin_trap();
	if (ui_catalog_parse(&d, (const char *)data, size, err, sizeof err) != 0 ||
	    ui_catalog_overlay(c, d, err, sizeof err) != 0 ||
	    ui_catalog_match(d, c, err, sizeof err))
		__builtin_trap();
	ui_catalog_free(d);
	ui_catalog_free(c);
	return 0;
}
