/*
 * meldpunt backup and restore (docs/BACKUP.md): one file that holds a whole
 * instance (configuration, policy, page texts, the three instance keys and a
 * consistent copy of the database), encrypted as one stream under a
 * passphrase, and the way back from it into a new instance directory.
 *
 * The file: a 72-byte header in the clear, then records sealed with
 * crypto_secretstream_xchacha20poly1305 under a key that Argon2id derives
 * from the passphrase.
 *
 *   header   "MPBACKUP", format (1 byte), 7 zero bytes, Argon2id opslimit and
 *            memlimit (8 bytes each, big-endian), salt (16), stream header (24)
 *   record   length of the sealed record (4 bytes, big-endian), sealed record
 *
 * A record is its type and its contents; the first is sealed with the header
 * as additional data.  'I' (text: day, origin, counts), then for each file
 * 'F' (size, 8 bytes big-endian; name) followed by 'D' records of its bytes,
 * at most 64 KiB each, and last 'E' with the stream's final tag.  The stream
 * authenticates the order and the end: a changed, dropped, reordered or
 * missing record, or a cut file, does not open.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "util.h"
#include "mp_backup.h"
#include "mp_instance.h"

/* Called from main.c's table of commands. */
int cmd_backup(int argc, char **argv);
int cmd_restore(int argc, char **argv);

#define MAGIC "MPBACKUP"
#define FORMAT 1
#define HDR_LEN 72
#define HDR_SALT 32
#define HDR_STREAM 48
#define CHUNK 65536         /* file bytes per 'D' record */
#define REC_MAX (1 + CHUNK) /* the largest record in the clear */
#define ABYTES crypto_secretstream_xchacha20poly1305_ABYTES
#define NAME_LEN 80 /* longest file name in a backup */
#define INFO_MAX 1024
#define UI_DIR "ui"
#define UI_MAX (1 << 20) /* bytes of one page-text file */
#define UI_FILES 256
#define DB_MAX ((uint64_t)1 << 40)

/* Argon2id bounds a backup may ask of a restore: more would be a denial of service. */
#define OPS_MAX 64ULL
#define MEM_MAX ((uint64_t)1 << 31)

/* The instance's files besides the database and ui/ (store/instance.c). */
static const struct ifile {
	const char *name;
	uint64_t max;
	int exact; /* a key: exactly max bytes */
} ifiles[] = {
	{ MP_INSTANCE_CONF, 4096, 0 },
	{ MP_INSTANCE_POLICY, 1 << 20, 0 },
	{ "db.key", 32, 1 },
	{ "pepper.key", 32, 1 },
	{ "log.key", 64, 1 },
};
#define NIFILES (sizeof ifiles / sizeof ifiles[0])

static const char backup_usage[] =
    "meldpunt backup --dir DIR OUT\n"
    "  A backup of the instance in DIR, made while meldpuntd runs: one file OUT\n"
    "  (mode 0600, never overwritten) that holds the configuration, the policy, the\n"
    "  page texts in ui/, the database key, the token pepper, the log key and a\n"
    "  consistent copy of the database, all encrypted under a passphrase (Argon2id,\n"
    "  XChaCha20-Poly1305).  Asked twice on the terminal, or MELDPUNT_PASSPHRASE;\n"
    "  at least 8 characters, and a long one is better: whoever has OUT and the\n"
    "  passphrase has the instance's keys.  The copy is checked (opened with the\n"
    "  key, integrity_check, cases counted) before backup says ok and prints what\n"
    "  it holds.  MELDPUNT_KDF_FAST=1 makes Argon2id weak, for tests only.  See\n"
    "  docs/BACKUP.md.";

static const char restore_usage[] =
    "meldpunt restore --dir NEWDIR BACKUP\n"
    "  A new instance directory NEWDIR (it must not exist; mode 0700, files 0600)\n"
    "  from a file of meldpunt backup, after its passphrase (the terminal, or\n"
    "  MELDPUNT_PASSPHRASE).  Everything is checked before NEWDIR appears: the file\n"
    "  opens and is whole, the configuration, keys and policy load, the database\n"
    "  opens with its key and passes integrity_check.  A damaged or cut backup\n"
    "  creates nothing.  Then start meldpuntd --dir NEWDIR.  What came after the\n"
    "  backup is gone: reports, added keys, and revocations (revoke those keys\n"
    "  again).  The transparency log goes back to the backup's size, which auditors\n"
    "  see as a fork: tell them first (docs/BACKUP.md, docs/LOG.md).";

/* One backup file being written or read. */
struct arc {
	int fd;
	const char *path;
	crypto_secretstream_xchacha20poly1305_state *st; /* holds the key: sodium_malloc */
	uint8_t *pt;       /* a record in the clear, REC_MAX: may be a key */
	uint8_t *ct;       /* 4 + REC_MAX + ABYTES */
	const uint8_t *ad; /* the header, for the first record */
	uint64_t records;
	uint64_t bytes; /* written */
};

/* What the 'I' record says. */
struct info {
	char day[11];
	char origin[256];
	long long cases;
	long long log_size;
};

static void
put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t
get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* Up to len bytes: fewer only at the end of the file.  -1 on an error. */
static ssize_t
read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t got = 0;
	ssize_t r;

	while (got < len) {
		if ((r = read(fd, p + got, len - got)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static int
arc_init(struct arc *a, int fd, const char *path)
{
	memset(a, 0, sizeof *a);
	a->fd = fd;
	a->path = path;
	a->st = sodium_malloc(sizeof *a->st);
	a->pt = sodium_malloc(REC_MAX);
	a->ct = malloc(4 + REC_MAX + ABYTES);
	if (a->st == NULL || a->pt == NULL || a->ct == NULL) {
		err1("out of memory");
		return -1;
	}
	return 0;
}

static void
arc_clear(struct arc *a)
{
	if (a->st != NULL)
		sodium_free(a->st);
	if (a->pt != NULL)
		sodium_free(a->pt);
	free(a->ct); /* sealed records only */
	a->st = NULL;
	a->pt = NULL;
	a->ct = NULL;
}

/* Seal the record a->pt[0..1 + n) as type and write it. */
static int
arc_put(struct arc *a, int type, size_t n, int final)
{
	unsigned long long clen;
	uint8_t tag = final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0;

	a->pt[0] = (uint8_t)type;
	if (crypto_secretstream_xchacha20poly1305_push(a->st, a->ct + 4, &clen, a->pt, 1 + n,
	        a->records == 0 ? a->ad : NULL, a->records == 0 ? HDR_LEN : 0, tag) != 0) {
		err1("cannot encrypt the backup");
		return -1;
	}
	a->ct[0] = (uint8_t)(clen >> 24);
	a->ct[1] = (uint8_t)(clen >> 16);
	a->ct[2] = (uint8_t)(clen >> 8);
	a->ct[3] = (uint8_t)clen;
	if (mp_write_all(a->fd, a->ct, 4 + (size_t)clen) != 0) {
		err1("cannot write %s: %s", a->path, strerror(errno));
		return -1;
	}
	a->records++;
	a->bytes += 4 + clen;
	return 0;
}

/*
 * Read and open the next record: its type, the length of its contents
 * (at a->pt + 1) and whether it is the last.  -1 (printed) when the file
 * ends, or the record does not open.
 */
static int
arc_get(struct arc *a, int *type, size_t *n, int *final)
{
	unsigned long long mlen;
	uint32_t clen;
	uint8_t tag;
	ssize_t r;

	if ((r = read_full(a->fd, a->ct, 4)) < 0) {
		err1("cannot read %s: %s", a->path, strerror(errno));
		return -1;
	}
	if (r < 4) {
		err1("%s is truncated: it ends before its last record", a->path);
		return -1;
	}
	clen = (uint32_t)a->ct[0] << 24 | (uint32_t)a->ct[1] << 16 | (uint32_t)a->ct[2] << 8 |
	    a->ct[3];
	if (clen < 1 + ABYTES || clen > REC_MAX + ABYTES) {
		err1("%s is damaged (record %llu has an impossible length)", a->path,
		    (unsigned long long)a->records + 1);
		return -1;
	}
	if ((r = read_full(a->fd, a->ct + 4, clen)) < 0) {
		err1("cannot read %s: %s", a->path, strerror(errno));
		return -1;
	}
	if ((size_t)r < clen) {
		err1("%s is truncated: it ends inside record %llu", a->path,
		    (unsigned long long)a->records + 1);
		return -1;
	}
	if (crypto_secretstream_xchacha20poly1305_pull(a->st, a->pt, &mlen, &tag, a->ct + 4, clen,
	        a->records == 0 ? a->ad : NULL, a->records == 0 ? HDR_LEN : 0) != 0) {
		if (a->records == 0)
			err1("%s does not open: wrong passphrase, or the file is damaged", a->path);
		else
			err1("%s is damaged: record %llu does not open", a->path,
			    (unsigned long long)a->records + 1);
		return -1;
	}
	a->records++;
	*type = a->pt[0];
	*n = (size_t)mlen - 1;
	*final = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
	return 0;
}

/*
 * Ask the passphrase (prompt, MP_PASS_* flags of mp_passphrase_read) and
 * derive from it the key for this header's salt and limits: 0 with *key
 * set (sodium_malloc'ed, 32 bytes; free it with mp_secret_free), or -1
 * (printed).  The passphrase is wiped before this returns.
 */
static int
passphrase_key(uint8_t **key, const uint8_t hdr[HDR_LEN], const char *prompt, int flags)
{
	uint8_t *k = NULL;
	char *pass = NULL;
	size_t plen = 0;
	int rc = -1;

	*key = NULL;
	if ((k = sodium_malloc(32)) == NULL) {
		err1("out of memory");
		goto out;
	}
	if (mp_passphrase_read(&pass, &plen, prompt, flags) != 0)
		goto out;
	if (crypto_pwhash(k, 32, pass, plen, hdr + HDR_SALT, get_be64(hdr + 16),
	        (size_t)get_be64(hdr + 24), crypto_pwhash_ALG_ARGON2ID13) != 0) {
		err1("cannot derive the backup's key (out of memory?)");
		goto out;
	}
	*key = k;
	k = NULL;
	rc = 0;
out:
	mp_secret_free(k);
	mp_secret_free(pass);
	return rc;
}

/* ---- paths ---- */

/* path without trailing slashes into out; its parent and last part into parent and base. */
static int
split_path(
    const char *path, char *out, size_t outlen, char *parent, size_t plen, char *base, size_t blen)
{
	size_t n = strlen(path);
	const char *slash;
	int r;

	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n == 0 || n >= outlen) {
		err1("%s: not a usable path", path);
		return -1;
	}
	memcpy(out, path, n);
	out[n] = '\0';
	if ((slash = strrchr(out, '/')) == NULL)
		r = snprintf(parent, plen, ".") < 0 || snprintf(base, blen, "%s", out) >= (int)blen;
	else
		r = snprintf(parent, plen, "%.*s", slash == out ? 1 : (int)(slash - out), out) >=
		        (int)plen ||
		    snprintf(base, blen, "%s", slash + 1) >= (int)blen;
	if (r || *base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		err1("%s: not a usable path", path);
		return -1;
	}
	return 0;
}

/*
 * split_path for the path that backup or restore is to create, refused
 * when something is there already: "PATH: <exists>".  Checked before the
 * passphrase is typed; the link or rename that creates it still decides.
 * 0, or -1 (printed).
 */
static int
new_path(const char *path, char out[PATH_MAX], char parent[PATH_MAX], char base[NAME_MAX + 1],
    const char *exists)
{
	struct stat sb;
	int r;

	if (split_path(path, out, PATH_MAX, parent, PATH_MAX, base, NAME_MAX + 1) != 0)
		return -1;
	if ((r = lstat(out, &sb)) == 0 || errno != ENOENT) {
		err1("%s: %s", out, r == 0 ? exists : strerror(errno));
		return -1;
	}
	return 0;
}

/* A private directory beside path (same file system, so a rename or link finishes the work). */
static int
make_tmp(char *tmp, size_t len, const char *parent, const char *base, const char *what)
{
	int n = snprintf(tmp, len, "%s/.%s.%s-XXXXXX", parent, base, what);

	if (n < 0 || (size_t)n >= len) {
		err1("%s/%s: path too long", parent, base);
		return -1;
	}
	if (mkdtemp(tmp) == NULL) {
		err1("cannot create a directory in %s: %s", parent, strerror(errno));
		return -1;
	}
	return 0;
}

/* Remove what this program put in its own tmp directory: files, ui/ and its files. */
static void
remove_tmp(const char *tmp)
{
	char sub[PATH_MAX];
	const char *dirs[2];
	struct dirent *e;
	DIR *d;
	int i;

	if (*tmp == '\0')
		return;
	if (snprintf(sub, sizeof sub, "%s/%s", tmp, UI_DIR) >= (int)sizeof sub)
		return;
	dirs[0] = sub;
	dirs[1] = tmp;
	for (i = 0; i < 2; i++) {
		if ((d = opendir(dirs[i])) == NULL)
			continue;
		while ((e = readdir(d)) != NULL)
			if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
				(void)unlinkat(dirfd(d), e->d_name,
				    i == 1 && strcmp(e->d_name, UI_DIR) == 0 ? AT_REMOVEDIR : 0);
		closedir(d);
	}
	(void)rmdir(tmp);
}

static int
join(char *out, size_t len, const char *dir, const char *name)
{
	int n = snprintf(out, len, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= len) {
		err1("%s/%s: path too long", dir, name);
		return -1;
	}
	return 0;
}

static int
sync_dir(const char *dir)
{
	int fd, rc;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* A name in ui/: letters, digits, '.', '_' and '-', not starting with '.'. */
static int
ui_name_ok(const char *s)
{
	size_t i;

	if (*s == '\0' || *s == '.' || strlen(s) > NAME_LEN - sizeof UI_DIR - 1)
		return 0;
	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		        (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

/* Append name to the space-separated list names (what is printed; a long list is cut). */
static void
add_name(char *names, size_t len, const char *name)
{
	size_t used = strlen(names);

	if (used + 1 + strlen(name) < len)
		snprintf(names + used, len - used, "%s%s", used ? " " : "", name);
}

/* ---- backup ---- */

/* Seal one file: 'F' with its size and name, then its bytes.  It must not change meanwhile. */
static int
put_file(struct arc *a, const char *path, const char *name, uint64_t max, int exact)
{
	struct stat sb;
	uint64_t left;
	size_t nlen = strlen(name);
	ssize_t r;
	int fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		err1("%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > max ||
	    (exact && (uint64_t)sb.st_size != max)) {
		err1("%s: not a regular file of %s %llu bytes", path, exact ? "exactly" : "at most",
		    (unsigned long long)max);
		goto out;
	}
	left = (uint64_t)sb.st_size;
	put_be64(a->pt + 1, left);
	memcpy(a->pt + 9, name, nlen);
	if (arc_put(a, 'F', 8 + nlen, 0) != 0)
		goto out;
	while (left > 0) {
		r = read_full(fd, a->pt + 1, left < CHUNK ? (size_t)left : CHUNK);
		if (r <= 0) {
			err1("%s: %s", path, r < 0 ? strerror(errno) : "shrank while being read");
			goto out;
		}
		if (arc_put(a, 'D', (size_t)r, 0) != 0)
			goto out;
		left -= (uint64_t)r;
	}
	if (read_full(fd, a->pt + 1, 1) != 0) {
		err1("%s: grew while being read", path);
		goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

/* The page texts in DIR/ui/, in name order; anything else there is named and left out. */
static int
put_ui(struct arc *a, const char *dir, char *names, size_t nlen)
{
	char udir[PATH_MAX], path[PATH_MAX], name[NAME_LEN + 1];
	struct dirent **ents = NULL;
	struct stat sb;
	int i, n, count = 0, rc = -1;

	if (join(udir, sizeof udir, dir, UI_DIR) != 0)
		return -1;
	if ((n = scandir(udir, &ents, NULL, alphasort)) < 0) {
		if (errno == ENOENT)
			return 0;
		err1("%s: %s", udir, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		const char *e = ents[i]->d_name;

		if (strcmp(e, ".") == 0 || strcmp(e, "..") == 0)
			continue;
		if (join(path, sizeof path, udir, e) != 0)
			goto out;
		if (!ui_name_ok(e) || lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
			err1("note: %s is not a page-text file; it is not in the backup", path);
			continue;
		}
		if (++count > UI_FILES) {
			err1("%s holds more than %d files", udir, UI_FILES);
			goto out;
		}
		/* ui_name_ok bounded e's length. */
		if (snprintf(name, sizeof name, "%s/%s", UI_DIR, e) >= (int)sizeof name ||
		    put_file(a, path, name, UI_MAX, 0) != 0)
			goto out;
		add_name(names, nlen, name);
	}
	rc = 0;
out:
	for (i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	return rc;
}

/* Say which files of DIR are not part of an instance, so that nobody counts on them. */
static void
note_strangers(const char *dir)
{
	static const char *const known[] = { MP_INSTANCE_DB, MP_INSTANCE_DB "-wal",
		MP_INSTANCE_DB "-shm", MP_INSTANCE_DB "-journal", UI_DIR, ".", ".." };
	struct dirent *e;
	size_t i;
	DIR *d;
	int found;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		found = 0;
		for (i = 0; i < sizeof known / sizeof known[0] && !found; i++)
			found = strcmp(e->d_name, known[i]) == 0;
		for (i = 0; i < NIFILES && !found; i++)
			found = strcmp(e->d_name, ifiles[i].name) == 0;
		if (!found)
			err1("note: %s/%s is not part of an instance; it is not in the backup", dir,
			    e->d_name);
	}
	closedir(d);
}

/* A new header: format, Argon2id limits and a fresh salt; the stream header comes later. */
static void
new_header(uint8_t hdr[HDR_LEN], uint64_t ops, uint64_t mem)
{
	memset(hdr, 0, HDR_LEN);
	memcpy(hdr, MAGIC, 8);
	hdr[8] = FORMAT;
	put_be64(hdr + 16, ops);
	put_be64(hdr + 24, mem);
	randombytes_buf(hdr + HDR_SALT, crypto_pwhash_SALTBYTES);
}

/* The header (its stream part filled in here) and every record, into the open a->fd. */
static int
write_backup(struct arc *a, uint8_t hdr[HDR_LEN], const uint8_t *key, const struct mp_instance *in,
    const char *dbcopy, const struct mp_backup_info *info, const char *day, char *names,
    size_t nlen)
{
	char path[PATH_MAX];
	size_t i;
	int n;

	crypto_secretstream_xchacha20poly1305_init_push(a->st, hdr + HDR_STREAM, key);
	a->ad = hdr;
	if (mp_write_all(a->fd, hdr, HDR_LEN) != 0) {
		err1("cannot write %s: %s", a->path, strerror(errno));
		return -1;
	}
	a->bytes = HDR_LEN;
	n = snprintf((char *)a->pt + 1, INFO_MAX, "day=%s\norigin=%s\ncases=%lld\nlog=%lld\n", day,
	    in->origin, info->cases, info->log_size);
	if (n < 0 || n >= INFO_MAX || arc_put(a, 'I', (size_t)n, 0) != 0)
		return -1;
	names[0] = '\0';
	for (i = 0; i < NIFILES; i++) {
		if (join(path, sizeof path, in->dir, ifiles[i].name) != 0 ||
		    put_file(a, path, ifiles[i].name, ifiles[i].max, ifiles[i].exact) != 0)
			return -1;
		add_name(names, nlen, ifiles[i].name);
	}
	if (put_ui(a, in->dir, names, nlen) != 0 ||
	    put_file(a, dbcopy, MP_INSTANCE_DB, DB_MAX, 0) != 0)
		return -1;
	add_name(names, nlen, MP_INSTANCE_DB);
	return arc_put(a, 'E', 0, 1);
}

/* Argon2id limits: moderate, or the minimum for tests (MELDPUNT_KDF_FAST=1, as keygen). */
static void
kdf_limits(uint64_t *ops, uint64_t *mem)
{
	const char *fast = getenv("MELDPUNT_KDF_FAST");

	if (fast != NULL && strcmp(fast, "1") == 0) {
		*ops = crypto_pwhash_OPSLIMIT_MIN;
		*mem = 8 * 1024 * 1024;
	} else {
		*ops = crypto_pwhash_OPSLIMIT_MODERATE;
		*mem = crypto_pwhash_MEMLIMIT_MODERATE;
	}
}

static void
print_summary(const char *what, const char *path, const char *origin, const char *day,
    const struct mp_backup_info *info, int steps, const char *names)
{
	char how[64] = "";

	if (steps > 0)
		snprintf(how, sizeof how, ", copied in %d step%s", steps, steps == 1 ? "" : "s");
	printf("%s %s\n", what, path);
	printf("  instance  %s, backed up on %s\n", origin, day);
	printf("  cases     %lld\n", info->cases);
	printf("  keys      %lld active\n", info->keys);
	printf("  log       %lld events (tree size %lld)\n", info->log_size, info->log_size);
	printf("  database  schema %d, %lld pages of %lld bytes%s, integrity ok\n", info->schema,
	    info->pages, info->page_size, how);
	printf("  files     %s\n", names);
}

int
cmd_backup(int argc, char **argv)
{
	const char *dir = NULL, *out;
	const struct mp_opt opts[] = { { "dir", &dir, NULL }, { NULL, NULL, NULL } };
	struct mp_instance *in = NULL;
	struct mp_backup_info info;
	struct arc a;
	char *pos[1], err[512], names[1024], day[11];
	char outp[PATH_MAX], parent[PATH_MAX], base[NAME_MAX + 1], tmp[PATH_MAX] = "";
	char src[PATH_MAX], dbcopy[PATH_MAX], arcpath[PATH_MAX];
	uint8_t hdr[HDR_LEN], *key = NULL;
	uint64_t ops, mem;
	int npos, r, fd = -1, linked = 0, steps = 0, rc = EXIT_USER;

	memset(&a, 0, sizeof a);
	if ((r = mp_opts_parse(argc, argv, opts, pos, 1, &npos, backup_usage)) != 0)
		return mp_opts_exit(r, backup_usage, NULL);
	if (dir == NULL || npos != 1)
		return usage_error(backup_usage, "--dir and the file to write are required");
	out = pos[0];
	if (new_path(out, outp, parent, base, "already exists; a backup never overwrites a file") !=
	    0)
		return EXIT_USER;
	if (mp_instance_load(&in, dir, err, sizeof err) != 0) {
		err1("%s", err);
		goto out;
	}
	note_strangers(in->dir);
	kdf_limits(&ops, &mem);
	new_header(hdr, ops, mem);
	if (passphrase_key(&key, hdr, "New passphrase for the backup: ", MP_PASS_NEW) != 0)
		goto out;
	if (make_tmp(tmp, sizeof tmp, parent, base, "tmp") != 0) {
		tmp[0] = '\0';
		goto out;
	}
	if (mp_instance_path(src, sizeof src, in, MP_INSTANCE_DB) != 0 ||
	    join(dbcopy, sizeof dbcopy, tmp, MP_INSTANCE_DB) != 0 ||
	    join(arcpath, sizeof arcpath, tmp, "backup") != 0)
		goto out;
	if (mp_backup_copy(src, dbcopy, in->sec->db_key, &steps, err, sizeof err) != 0 ||
	    mp_backup_verify(dbcopy, in->sec->db_key, &info, err, sizeof err) != 0) {
		err1("%s", err);
		goto out;
	}
	if ((fd = open(arcpath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
		err1("cannot create %s: %s", arcpath, strerror(errno));
		goto out;
	}
	if (arc_init(&a, fd, outp) != 0)
		goto out;
	/* mp_instance_load set the instance's time zone: the day is the instance's. */
	mp_today(day);
	if (write_backup(&a, hdr, key, in, dbcopy, &info, day, names, sizeof names) != 0)
		goto out;
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		err1("cannot write %s: %s", outp, strerror(errno));
		goto out;
	}
	fd = -1;
	/* link() never replaces: a file that appeared at OUT meanwhile stays as it was. */
	if (link(arcpath, outp) != 0) {
		err1("%s: %s", outp,
		    errno == EEXIST ? "already exists; a backup never overwrites "
		                      "a file"
		                    : strerror(errno));
		goto out;
	}
	linked = 1;
	if (sync_dir(parent) != 0) {
		err1("cannot sync %s: %s", parent, strerror(errno));
		goto out;
	}
	print_summary("backup ok:", outp, in->origin, day, &info, steps, names);
	printf("  size      %llu bytes, encrypted under the passphrase, mode 0600\n",
	    (unsigned long long)a.bytes);
	err1(
	    "keep the passphrase apart from the backup: with both, anyone has the instance's keys");
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc != 0 && linked)
		(void)unlink(outp);
	remove_tmp(tmp);
	arc_clear(&a);
	mp_secret_free(key);
	mp_instance_free(in);
	return rc;
}

/* ---- restore ---- */

/* The header of an open backup file: the format and limits checked. */
static int
read_header(int fd, const char *path, uint8_t hdr[HDR_LEN])
{
	uint64_t ops, mem;
	ssize_t r;
	int i;

	if ((r = read_full(fd, hdr, HDR_LEN)) < 0) {
		err1("cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	if (r < 8 || memcmp(hdr, MAGIC, 8) != 0) {
		err1("%s is not a meldpunt backup", path);
		return -1;
	}
	if (r < HDR_LEN) {
		err1("%s is truncated: it ends inside its header", path);
		return -1;
	}
	if (hdr[8] != FORMAT) {
		err1("%s is a backup of format %d; this meldpunt reads format %d", path, hdr[8],
		    FORMAT);
		return -1;
	}
	for (i = 9; i < 16; i++)
		if (hdr[i] != 0) {
			err1("%s is damaged (its header)", path);
			return -1;
		}
	ops = get_be64(hdr + 16);
	mem = get_be64(hdr + 24);
	if (ops < crypto_pwhash_OPSLIMIT_MIN || ops > OPS_MAX || mem < crypto_pwhash_MEMLIMIT_MIN ||
	    mem > MEM_MAX) {
		err1("%s is damaged (its Argon2id limits are out of range)", path);
		return -1;
	}
	return 0;
}

/* The 'I' record: "name=value" lines; the day and origin are shown, the counts compared. */
static int
parse_info(const char *text, size_t n, struct info *inf, const char *path)
{
	const char *p = text, *end = text + n, *nl;
	size_t i, k, vlen;

	memset(inf, 0, sizeof *inf);
	inf->cases = inf->log_size = -1;
	for (i = 0; i < n; i++)
		if ((unsigned char)text[i] < 0x20 && text[i] != '\n')
			goto bad;
	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			goto bad;
		for (k = 0; p + k < nl && p[k] != '='; k++)
			;
		if (p + k == nl)
			goto bad;
		vlen = (size_t)(nl - p) - k - 1;
		if (k == 3 && memcmp(p, "day", 3) == 0 && vlen == 10)
			memcpy(inf->day, p + 4, 10);
		else if (k == 6 && memcmp(p, "origin", 6) == 0 && vlen < sizeof inf->origin)
			memcpy(inf->origin, p + 7, vlen);
		else if (k == 5 && memcmp(p, "cases", 5) == 0)
			inf->cases = strtoll(p + 6, NULL, 10);
		else if (k == 3 && memcmp(p, "log", 3) == 0)
			inf->log_size = strtoll(p + 4, NULL, 10);
	}
	if (!mp_day_ok(inf->day) || inf->origin[0] == '\0' || inf->cases < 0 || inf->log_size < 0)
		goto bad;
	return 0;
bad:
	err1("%s is damaged (its description)", path);
	return -1;
}

/* The limits of a file named in a backup; -1 for a name no instance has. */
static int
name_limits(const char *name, uint64_t *max, int *exact)
{
	size_t i;

	for (i = 0; i < NIFILES; i++)
		if (strcmp(name, ifiles[i].name) == 0) {
			*max = ifiles[i].max;
			*exact = ifiles[i].exact;
			return (int)i;
		}
	*exact = 0;
	if (strcmp(name, MP_INSTANCE_DB) == 0) {
		*max = DB_MAX;
		return (int)NIFILES;
	}
	if (strncmp(name, UI_DIR "/", sizeof UI_DIR) == 0 && ui_name_ok(name + sizeof UI_DIR)) {
		*max = UI_MAX;
		return (int)NIFILES + 1;
	}
	return -1;
}

/* The state of one file being restored. */
struct rfile {
	int fd;
	uint64_t left;
	char name[NAME_LEN + 1];
};

static int
rfile_close(struct rfile *f, const char *path)
{
	int rc = 0;

	if (f->fd < 0)
		return 0;
	if (f->left != 0) {
		err1("%s is damaged: %s ends early", path, f->name);
		rc = -1;
	} else if (fsync(f->fd) != 0) {
		err1("cannot write %s: %s", f->name, strerror(errno));
		rc = -1;
	}
	if (close(f->fd) != 0 && rc == 0) {
		err1("cannot write %s: %s", f->name, strerror(errno));
		rc = -1;
	}
	f->fd = -1;
	return rc;
}

/* An 'F' record: a new file in tmp, after its name and size are checked. */
static int
rfile_open(struct rfile *f, struct arc *a, size_t n, const char *tmp, unsigned *seen, int *nui,
    char *names, size_t nlen)
{
	char path[PATH_MAX];
	uint64_t size, max;
	int k, exact;

	if (n < 9 || n - 8 > NAME_LEN) {
		err1("%s is damaged (a file entry)", a->path);
		return -1;
	}
	size = get_be64(a->pt + 1);
	memcpy(f->name, a->pt + 9, n - 8);
	f->name[n - 8] = '\0';
	if (strlen(f->name) != n - 8 || (k = name_limits(f->name, &max, &exact)) < 0) {
		err1("%s holds a file no instance has; not restoring it", a->path);
		return -1;
	}
	if (size > max || (exact && size != max)) {
		err1("%s is damaged: %s has an impossible size", a->path, f->name);
		return -1;
	}
	if (k <= (int)NIFILES) {
		if (*seen & (1u << k)) {
			err1("%s is damaged: it holds %s twice", a->path, f->name);
			return -1;
		}
		*seen |= 1u << k;
	} else {
		if (++*nui > UI_FILES) {
			err1("%s holds more than %d page-text files", a->path, UI_FILES);
			return -1;
		}
		if (join(path, sizeof path, tmp, UI_DIR) != 0)
			return -1;
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			err1("cannot create %s: %s", path, strerror(errno));
			return -1;
		}
	}
	if (join(path, sizeof path, tmp, f->name) != 0)
		return -1;
	/* O_EXCL: a name twice in ui/ is refused here. */
	if ((f->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
		err1("cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	f->left = size;
	add_name(names, nlen, f->name);
	return 0;
}

/* Every record of the backup into files in tmp, up to and including 'E'. */
static int
unpack(struct arc *a, const char *tmp, struct info *inf, char *names, size_t nlen)
{
	struct rfile f;
	unsigned seen = 0, all = (1u << (NIFILES + 1)) - 1;
	size_t n;
	int type, final, nui = 0, rc = -1;

	f.fd = -1;
	f.left = 0;
	if (arc_get(a, &type, &n, &final) != 0)
		return -1;
	if (type != 'I' || final || n > INFO_MAX) {
		err1("%s is damaged (no description first)", a->path);
		return -1;
	}
	if (parse_info((const char *)a->pt + 1, n, inf, a->path) != 0)
		return -1;
	for (;;) {
		if (arc_get(a, &type, &n, &final) != 0)
			goto out;
		if ((type == 'E') != (final != 0)) {
			err1("%s is damaged (its end)", a->path);
			goto out;
		}
		if (type == 'E' || type == 'F') {
			if (rfile_close(&f, a->path) != 0)
				goto out;
			if (type == 'E')
				break;
			if (rfile_open(&f, a, n, tmp, &seen, &nui, names, nlen) != 0)
				goto out;
		} else if (type == 'D' && f.fd >= 0 && n > 0 && n <= f.left) {
			if (mp_write_all(f.fd, a->pt + 1, n) != 0) {
				err1("cannot write %s: %s", f.name, strerror(errno));
				goto out;
			}
			f.left -= n;
		} else {
			err1("%s is damaged (record %llu is out of place)", a->path,
			    (unsigned long long)a->records);
			goto out;
		}
	}
	if (seen != all) {
		err1("%s is incomplete: an instance file is missing", a->path);
		goto out;
	}
	if (read_full(a->fd, a->ct, 1) != 0) {
		err1("%s is damaged: there are bytes after its end", a->path);
		goto out;
	}
	rc = 0;
out:
	if (f.fd >= 0)
		close(f.fd);
	return rc;
}

int
cmd_restore(int argc, char **argv)
{
	const char *dir = NULL, *file;
	const struct mp_opt opts[] = { { "dir", &dir, NULL }, { NULL, NULL, NULL } };
	struct mp_instance *in = NULL;
	struct mp_backup_info info;
	struct info inf;
	struct arc a;
	struct stat sb;
	char *pos[1], err[512], names[1024], db[PATH_MAX];
	char dirp[PATH_MAX], parent[PATH_MAX], base[NAME_MAX + 1], tmp[PATH_MAX] = "";
	uint8_t hdr[HDR_LEN], *key = NULL;
	int npos, r, fd = -1, rc = EXIT_USER;

	memset(&a, 0, sizeof a);
	if ((r = mp_opts_parse(argc, argv, opts, pos, 1, &npos, restore_usage)) != 0)
		return mp_opts_exit(r, restore_usage, NULL);
	if (dir == NULL || npos != 1)
		return usage_error(restore_usage, "--dir and the backup file are required");
	file = pos[0];
	if (new_path(dir, dirp, parent, base,
	        "already exists; restore makes a new instance "
	        "directory (move the old one aside first)") != 0)
		return EXIT_USER;
	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0) {
		err1("cannot open %s: %s", file, strerror(errno));
		return EXIT_USER;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		err1("%s is not a regular file", file);
		goto out;
	}
	if (read_header(fd, file, hdr) != 0 || arc_init(&a, fd, file) != 0)
		goto out;
	a.ad = hdr;
	if (passphrase_key(&key, hdr, "Passphrase for the backup: ", 0) != 0)
		goto out;
	if (crypto_secretstream_xchacha20poly1305_init_pull(a.st, hdr + HDR_STREAM, key) != 0) {
		err1("%s is damaged (its header)", file);
		goto out;
	}
	if (make_tmp(tmp, sizeof tmp, parent, base, "restore") != 0) {
		tmp[0] = '\0';
		goto out;
	}
	names[0] = '\0';
	if (unpack(&a, tmp, &inf, names, sizeof names) != 0)
		goto out;
	/* The instance as meldpuntd will load it, and its database as the backup checked it. */
	if (mp_instance_load(&in, tmp, err, sizeof err) != 0) {
		err1("the restored instance does not load: %s", err);
		goto out;
	}
	if (join(db, sizeof db, tmp, MP_INSTANCE_DB) != 0)
		goto out;
	if (mp_backup_verify(db, in->sec->db_key, &info, err, sizeof err) != 0) {
		err1("%s", err);
		goto out;
	}
	if (info.cases != inf.cases || info.log_size != inf.log_size) {
		err1("%s is damaged: its database does not hold what it says", file);
		goto out;
	}
	/* RENAME_NOREPLACE: a DIR made meanwhile, even an empty one, is left alone. */
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dirp, RENAME_NOREPLACE) != 0) {
		err1("%s: %s", dirp,
		    errno == EEXIST ? "already exists; restore makes a new "
		                      "instance directory"
		                    : strerror(errno));
		goto out;
	}
	tmp[0] = '\0';
	if (sync_dir(parent) != 0)
		err1("note: cannot sync %s: %s", parent, strerror(errno));
	print_summary("restored", dirp, inf.origin, inf.day, &info, 0, names);
	err1("the transparency log is back at tree size %lld; auditors who saw a larger tree will "
	     "report a fork: tell them first (docs/BACKUP.md)",
	    info.log_size);
	rc = 0;
out:
	remove_tmp(tmp);
	if (fd >= 0)
		close(fd);
	arc_clear(&a);
	mp_secret_free(key);
	mp_instance_free(in);
	return rc;
}
