/*
 * mp_backup - the database side of `meldpunt backup` and `meldpunt restore`
 * (docs/BACKUP.md): a consistent copy of an instance's SQLCipher database
 * made with SQLite's online backup API while meldpuntd keeps writing to
 * it, and the checks a copy must pass before anyone relies on it.  The
 * copy is keyed with the same raw key as the original, so it is encrypted
 * at rest like the original.
 */
#ifndef MP_BACKUP_H
#define MP_BACKUP_H

#include <stddef.h>
#include <stdint.h>

/*
 * Pages copied per step and the pause after each.  The copy reads one
 * snapshot, which in WAL mode never blocks meldpuntd's writers; the pauses
 * leave the disk to the server between steps.
 */
#define MP_BACKUP_STEP_PAGES 512
#define MP_BACKUP_PAUSE_MS 5

/* What a verified copy holds. */
struct mp_backup_info {
	long long cases;     /* rows of cases, purged ones included */
	long long keys;      /* active keys */
	long long log_size;  /* leaves of the transparency log (0 before schema 3) */
	long long pages;     /* database pages */
	long long page_size; /* bytes */
	int schema;          /* PRAGMA user_version */
};

/*
 * Copy the database at src (opened with the raw key, never created,
 * changed or migrated) into dst, a new file (created mode 0600, O_EXCL),
 * keyed with the same key and left in rollback-journal mode so that the
 * file alone is the whole database.  The copy is the state as of one
 * moment: every transaction committed before the call began is in it.
 * *steps gets the number of steps taken (may be NULL).  0, or -1 with err
 * set; on failure dst may exist and is the caller's to remove.
 */
int mp_backup_copy(const char *src, const char *dst, const uint8_t key[32], int *steps, char *err,
    size_t errlen) __attribute__((warn_unused_result, nonnull(1, 2, 3, 5)));

/*
 * Open the database at path read-only with the raw key, run PRAGMA
 * integrity_check and count what it holds into *info.  0, or -1 with err
 * set: the key does not open it, it is damaged, it is not a meldpunt
 * database, or its schema is newer than this program's.
 */
int mp_backup_verify(const char *path, const uint8_t key[32], struct mp_backup_info *info,
    char *err, size_t errlen) __attribute__((warn_unused_result, nonnull));

#endif
