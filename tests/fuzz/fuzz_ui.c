/*
 * An instance's own texts for the pages (DIR/ui/common.conf and
 * DIR/ui/<lang>.conf, read at start by ui_load): the first byte chooses the
 * file (0: common.conf, 1 to 6: the policy's languages in order), the rest
 * is its text.  A set that loads must draw every page (form, receipt,
 * follow-up, status, accessibility, errors) in every language with the
 * answers fixture.h checks, and none of its texts may reach a page as
 * markup; a set refused names the file.  The text is also matched, as a
 * whole catalog, against the Dutch one (a language the binaries do not
 * carry).
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "fixture.h"

/* Each page in each language: the request text around the language code. */
static const char *const requests[][2] = {
	{ "GET /?lang=", "\n\n" },
	{ "GET /f?lang=", "\n\n" },
	{ "GET /accessibility?lang=", "\n\n" },
	{ "POST /report\n\ndescription=Geweigerd&grounds=origin&lang=", "" },
	{ "POST /report\n\ndescription=&occurred_on=2999-01-01&lang=", "" },
	{ "POST /f\n\ntoken=@TOKEN@&lang=", "" },
	{ "POST /f\n\ntoken=0000&lang=", "" },
	{ "POST /f/message\n\ntoken=@TOKEN@&text=&lang=", "" },
};

/* No text of the catalog may become markup: the seeds' texts try <script>. */
static void
look(const char *body, size_t len)
{
	if (memmem(body, len, "<script>", 8) != NULL || memmem(body, len, "<b>", 3) != NULL)
		__builtin_trap();
}

static void
put(const char *path, const uint8_t *data, size_t size)
{
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 ||
	    (size > 0 && write(fd, data, size) != (ssize_t)size) || close(fd) != 0)
		fx_die(path);
}

/* The error pages http.c sends, in the language li. */
static void
error_pages(const char *lang)
{
	static const unsigned statuses[] = { 400, 404, 413, 415, 503 };
	struct request rq;
	struct fx_conn conn;
	struct api_err e;
	char query[64], *page;
	size_t i;

	memset(&rq, 0, sizeof rq);
	memset(&conn, 0, sizeof conn);
	snprintf(query, sizeof query, "lang=%s", lang);
	conn.query = query;
	conn.headers = "";
	rq.uri = "/nowhere";
	rq.method = "GET";
	rq.conn = (struct MHD_Connection *)&conn;
	for (i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
		memset(&e, 0, sizeof e);
		e.status = statuses[i];
		e.code = "not_found";
		if ((page = page_error(&fx.srv, &rq, &e)) == NULL)
			__builtin_trap();
		look(page, strlen(page));
		mp_wipe_free(page);
	}
	for (i = 0; i < conn.ngiven; i++)
		free(conn.given[i]);
}

/* The text as a whole catalog for a language of its own. */
static void
whole(const uint8_t *data, size_t size)
{
	const struct ui_catalog *nl = ui_lang(fx.srv.ui, 0);
	struct ui_catalog *c = NULL;
	char err[300];

	if (ui_catalog_parse(&c, (const char *)data, size, err, sizeof err) != 0)
		return;
	if (ui_catalog_match(nl, c, err, sizeof err) == 0 &&
	    ui_catalog_size(c) != ui_catalog_size(nl))
		__builtin_trap();
	ui_catalog_free(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct mp_list *langs;
	struct ui *u = NULL, *builtin;
	char path[600], err[700], req[200];
	size_t which, i, li;

	fx_setup();
	if (size == 0)
		return 0;
	langs = &fx.in->policy->lists[MP_LANGUAGES];
	which = data[0] % (langs->n + 1);
	snprintf(path, sizeof path, "%s/ui", fx.in->dir);
	(void)mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/ui/%s%s", fx.in->dir,
	    which == 0 ? "common" : langs->v[which - 1].code, ".conf");
	put(path, data + 1, size - 1);
	err[0] = '\0';
	if (ui_load(&u, fx.in, err, sizeof err) != 0) {
		if (u != NULL ||
		    (strstr(err, "ui/") == NULL && strstr(err, "the texts for") == NULL))
			__builtin_trap();
	} else {
		builtin = fx.srv.ui;
		fx.srv.ui = u;
		fx_look = look;
		for (li = 0; li < langs->n; li++) {
			error_pages(langs->v[li].code);
			for (i = 0; i < sizeof requests / sizeof requests[0]; i++) {
				snprintf(req, sizeof req, "%s%s%s", requests[i][0],
				    langs->v[li].code, requests[i][1]);
				fx_request((const uint8_t *)req, strlen(req), FX_PAGES);
			}
		}
		fx_look = NULL;
		fx.srv.ui = builtin;
		ui_free(u);
	}
	unlink(path);
	whole(data + 1, size - 1);
	return 0;
}
